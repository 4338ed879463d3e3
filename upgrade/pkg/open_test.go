package pkg

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aead.dev/minisign"
	"github.com/klauspost/compress/gzip"

	"omflow-upgrade/upgrade/outcome"
)

func TestOpenGoodPackage(t *testing.T) {
	k := newKey(t)
	file := goodPackage(t, k, filepath.Join(t.TempDir(), "u.tar.gz"))
	p, err := Open(context.Background(), file, Options{Keys: []minisign.PublicKey{k.pub}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Signature != SigVerified || p.KeyID != KeyID(k.pub.ID()) {
		t.Errorf("signature %s by %s, want verified by %s", p.Signature, p.KeyID, KeyID(k.pub.ID()))
	}
	if p.Version() != "1.1.6.3" || p.Legacy != nil || p.Format != TarGz {
		t.Errorf("version %q legacy %v format %s", p.Version(), p.Legacy, p.Format)
	}
	if f, ok := p.Manifest.File("server/bin/tool.sh"); !ok || f.Mode != 0o755 {
		t.Errorf("tool.sh in manifest: %+v %v, want mode 0755", f, ok)
	}
}

// mutate makes a bad package out of a good one.
type mutate func(t *testing.T, ms []tarMember) []tarMember

func add(m tarMember) mutate {
	return func(t *testing.T, ms []tarMember) []tarMember { return append(ms, m) }
}

func edit(name string, f func(m *tarMember)) mutate {
	return func(t *testing.T, ms []tarMember) []tarMember {
		for i := range ms {
			if ms[i].h.Name == name {
				f(&ms[i])
				return ms
			}
		}
		t.Fatalf("no member %q", name)
		return nil
	}
}

func drop(name string) mutate {
	return func(t *testing.T, ms []tarMember) []tarMember {
		var out []tarMember
		for _, m := range ms {
			if m.h.Name != name {
				out = append(out, m)
			}
		}
		return out
	}
}

// TestOpenRefusesBadPackages is the corpus of SPEC 4.2: each bad package is refused as
// unusable input (exit 2) with a message naming the package and the reason, and nothing
// is written anywhere.
func TestOpenRefusesBadPackages(t *testing.T) {
	k := newKey(t)
	other := newKey(t)
	good := goodPackage(t, k, filepath.Join(t.TempDir(), "good.tar.gz"))
	link := func(name, target string, typ byte) tarMember {
		return tarMember{h: tar.Header{Name: name, Linkname: target, Typeflag: typ}}
	}
	cases := []struct {
		name   string
		mutate mutate
		raw    func(t *testing.T, file string) // instead of mutate: write file as it likes
		keys   []minisign.PublicKey
		lim    Limits
		want   string
	}{
		{name: "traversal", mutate: add(reg("../evil.sh", "x")), want: "leaves the root"},
		{name: "traversal inside", mutate: add(reg("payload/../../evil.sh", "x")), want: "not clean"},
		{name: "absolute path", mutate: add(reg("/etc/cron.d/evil", "x")), want: "absolute"},
		{name: "backslash", mutate: add(reg(`payload\..\..\evil`, "x")), want: "backslash"},
		{name: "symlink out", mutate: add(link("payload/server/out", "../../../../etc", tar.TypeSymlink)), want: "points outside"},
		{name: "symlink to the parent of the archive", mutate: add(link("payload/server/up", "../../..", tar.TypeSymlink)), want: "points outside"},
		{name: "absolute symlink", mutate: add(link("payload/server/out", "/etc/passwd", tar.TypeSymlink)), want: "relative path"},
		{name: "hardlink out", mutate: add(link("payload/server/out", "/etc/shadow", tar.TypeLink)), want: "hard link not allowed"},
		{name: "hardlink inside", mutate: add(link("payload/server/again", "payload/server/view.txt", tar.TypeLink)), want: "hard link not allowed"},
		{name: "device file", mutate: add(tarMember{h: tar.Header{Name: "payload/server/sda", Typeflag: tar.TypeBlock, Devmajor: 8}}), want: "block device not allowed"},
		{name: "char device", mutate: add(tarMember{h: tar.Header{Name: "payload/server/mem", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 1}}), want: "character device"},
		{name: "fifo", mutate: add(tarMember{h: tar.Header{Name: "payload/server/fifo", Typeflag: tar.TypeFifo}}), want: "named pipe"},
		{name: "duplicate entry", mutate: add(reg("payload/server/view.txt", "new view\n")), want: "duplicate name"},
		{name: "duplicate differing in case", mutate: add(reg("payload/server/VIEW.txt", "x")), want: "duplicate name"},
		{name: "unlisted entry", mutate: add(reg("payload/server/extra.py", "import os\n")), want: "not listed in the manifest"},
		{name: "unlisted folder", mutate: add(tarMember{h: tar.Header{Name: "payload/other/", Typeflag: tar.TypeDir, Mode: 0o755}}), want: "folder the manifest does not call for"},
		{name: "missing payload file", mutate: drop("payload/server/view.txt"), want: "the archive lacks it"},
		{name: "tampered payload", mutate: edit("payload/server/view.txt", func(m *tarMember) { m.body = []byte("evil vie\n") }), want: "the payload was changed"},
		{name: "payload of another size", mutate: edit("payload/server/view.txt", func(m *tarMember) { m.body = []byte("evil\n") }), want: "the manifest says 9"},
		{name: "payload file turned into a link", mutate: edit("payload/server/view.txt", func(m *tarMember) {
			m.h.Typeflag, m.h.Linkname, m.body = tar.TypeSymlink, "tool.sh", nil
		}), want: "lists a regular file"},
		{name: "tampered manifest", mutate: edit(ManifestName, func(m *tarMember) {
			m.body = bytes.Replace(m.body, []byte(`"0644"`), []byte(`"0666"`), 1)
		}), want: "does not match the manifest"},
		{name: "unsigned", mutate: drop(SignatureName), want: "not signed"},
		{name: "empty signature", mutate: edit(SignatureName, func(m *tarMember) { m.body = nil }), want: "invalid signature"},
		{name: "garbled signature", mutate: edit(SignatureName, func(m *tarMember) { m.body = []byte("untrusted comment: x\nAAAA\n") }), want: "signature"},
		{name: "wrong key", keys: []minisign.PublicKey{other.pub}, want: "not by a trusted key"},
		{name: "manifest not JSON", mutate: edit(ManifestName, func(m *tarMember) { m.body = []byte("{") }), want: "manifest"},
		{name: "no manifest", mutate: drop(ManifestName), want: "not an OMFLOW update package"},
		{name: "huge manifest", mutate: edit(ManifestName, func(m *tarMember) { m.body = make([]byte, maxManifest+1) }), want: "at most"},
		{name: "truncated archive", raw: func(t *testing.T, file string) {
			b, _ := os.ReadFile(good)
			os.WriteFile(file, b[:len(b)/2], 0o644)
		}, want: "unexpected EOF"},
		{name: "garbage", raw: func(t *testing.T, file string) {
			b := make([]byte, 2000)
			rand.Read(b)
			os.WriteFile(file, b, 0o644)
		}, want: "neither a .tar.gz nor a .zip"},
		{name: "empty file", raw: func(t *testing.T, file string) { os.WriteFile(file, nil, 0o644) }, want: "neither"},
		{name: "gzip of no tar", raw: func(t *testing.T, file string) {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(bytes.Repeat([]byte("omflow "), 1000))
			zw.Close()
			os.WriteFile(file, b.Bytes(), 0o644)
		}, want: "tar"},
		{name: "bomb: member declaring 100 GiB", raw: func(t *testing.T, file string) {
			// the header alone: the reader must refuse it before it reads a byte
			var b bytes.Buffer
			tw := tar.NewWriter(&b)
			tw.WriteHeader(&tar.Header{Name: "payload/huge", Typeflag: tar.TypeReg, Size: 100 << 30, Mode: 0o644})
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b.Bytes())
			zw.Write(make([]byte, 1<<20))
			zw.Close()
			os.WriteFile(file, z.Bytes(), 0o644)
		}, want: "over the limit"},
		{name: "bomb: unlisted zeros", mutate: add(reg("payload/zeros", string(make([]byte, 32<<20)))), want: "not listed"},
		{name: "too many members", lim: Limits{MaxEntries: 3}, want: "more than 3 archive members"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "bad.tar.gz")
			switch {
			case c.raw != nil:
				c.raw(t, file)
			case c.mutate != nil:
				writeTarGz(t, file, c.mutate(t, readTarGz(t, good)))
			default:
				b, _ := os.ReadFile(good)
				os.WriteFile(file, b, 0o644)
			}
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			before := snapshot(t, dir)
			keys := c.keys
			if keys == nil {
				keys = []minisign.PublicKey{k.pub}
			}
			_, err := Open(context.Background(), file, Options{Keys: keys, Limits: c.lim})
			if err == nil {
				t.Fatal("opened, want refused")
			}
			if got := outcome.ExitCode(err); got != outcome.ExitUnusable {
				t.Errorf("exit code %d, want %d (%v)", got, outcome.ExitUnusable, err)
			}
			if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q: want the package's name and %q", err, c.want)
			}
			if after := snapshot(t, dir); len(after) != len(before) {
				t.Errorf("the package's folder changed: %v -> %v", before, after)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("Open wrote %d entries into TMPDIR", len(ents))
			}
		})
	}
}

// TestOpenLimits shows that an archive bomb is refused by its declared sizes: the limit
// is checked before the content is read.
func TestOpenLimits(t *testing.T) {
	k := newKey(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"server/big.bin": string(make([]byte, 4<<20))})
	file := filepath.Join(t.TempDir(), "big.tar.gz")
	if _, err := Pack(context.Background(), PackOptions{SrcDir: src, Out: file, Key: k.priv, Version: "1.1.6.3"}); err != nil {
		t.Fatal(err)
	}
	opts := Options{Keys: []minisign.PublicKey{k.pub}}
	if _, err := Open(context.Background(), file, opts); err != nil {
		t.Fatalf("default limits: %v", err)
	}
	opts.Limits = Limits{MaxBytes: 1 << 20}
	if _, err := Open(context.Background(), file, opts); err == nil || !strings.Contains(err.Error(), "limit of 1048576 bytes") {
		t.Fatalf("1 MiB limit: %v, want refused", err)
	}
}

func TestOpenSignatureStates(t *testing.T) {
	k := newKey(t)
	good := goodPackage(t, k, filepath.Join(t.TempDir(), "good.tar.gz"))
	unsigned := filepath.Join(t.TempDir(), "unsigned.tar.gz")
	writeTarGz(t, unsigned, drop(SignatureName)(t, readTarGz(t, good)))
	other := newKey(t)
	cases := []struct {
		name  string
		file  string
		keys  []minisign.PublicKey
		allow bool
		want  SignatureState
		fail  bool
	}{
		{"verified", good, []minisign.PublicKey{k.pub}, false, SigVerified, false},
		{"verified by the second trusted key", good, []minisign.PublicKey{other.pub, k.pub}, false, SigVerified, false},
		{"wrong key refused", good, []minisign.PublicKey{other.pub}, false, SigInvalid, true},
		{"wrong key allowed", good, []minisign.PublicKey{other.pub}, true, SigInvalid, false},
		{"built-in key does not know a test key", good, nil, false, SigInvalid, true},
		{"unsigned refused", unsigned, []minisign.PublicKey{k.pub}, false, SigUnsigned, true},
		{"unsigned allowed", unsigned, []minisign.PublicKey{k.pub}, true, SigUnsigned, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Open(context.Background(), c.file, Options{Keys: c.keys, AllowUnsigned: c.allow})
			var se *SignatureError
			if c.fail {
				if !errors.As(err, &se) || se.State != c.want {
					t.Fatalf("err %v, want a SignatureError %s", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Signature != c.want || (c.want != SigVerified) != (p.SignatureErr != nil) {
				t.Errorf("signature %s (%v), want %s", p.Signature, p.SignatureErr, c.want)
			}
		})
	}
}

func TestOpenZip(t *testing.T) {
	k := newKey(t)
	file := goodPackage(t, k, filepath.Join(t.TempDir(), "u.zip"))
	p, err := Open(context.Background(), file, Options{Keys: []minisign.PublicKey{k.pub}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != Zip || p.Signature != SigVerified {
		t.Errorf("format %s signature %s", p.Format, p.Signature)
	}

	// a zip with a traversal name and a Windows-style one
	for _, name := range []string{"../evil.exe", `payload\..\..\evil.exe`, "C:/evil.exe"} {
		bad := filepath.Join(t.TempDir(), "bad.zip")
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.Create(name)
		w.Write([]byte("x"))
		zw.Close()
		os.WriteFile(bad, b.Bytes(), 0o644)
		if _, err := Open(context.Background(), bad, Options{Keys: []minisign.PublicKey{k.pub}}); err == nil || outcome.ExitCode(err) != 2 {
			t.Errorf("zip member %q: %v, want refused (exit 2)", name, err)
		}
	}
}

func TestOpenMissingFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "no-such.tar.gz")
	_, err := Open(context.Background(), file, Options{})
	if outcome.ExitCode(err) != 2 || !strings.Contains(err.Error(), "no-such.tar.gz") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%v: want exit 2 naming the file", err)
	}
	if _, err := Open(context.Background(), t.TempDir(), Options{}); outcome.ExitCode(err) != 2 {
		t.Errorf("a folder: %v, want exit 2", err)
	}
}

func TestLegacyPatch(t *testing.T) {
	cases := []struct {
		file    string
		members []tarMember
		version string
		script  string
		want    string
	}{
		{"omflow_patch_1_2_0_0.tar.gz", []tarMember{
			{tar.Header{Name: "omflow_patch_1_2_0_0/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
			{tar.Header{Name: "omflow_patch_1_2_0_0/patch.sh", Typeflag: tar.TypeReg, Mode: 0o755}, []byte("#!/bin/sh\necho patched\n")},
			reg("omflow_patch_1_2_0_0/server/view.py", "x"),
		}, "1.2.0.0", "omflow_patch_1_2_0_0/patch.sh", ""},
		{"omflow_patch_1_1_6_4_upgrade3.tar.gz", []tarMember{
			{tar.Header{Name: "./patch.sh", Typeflag: tar.TypeReg, Mode: 0o755}, []byte("#!/bin/sh\n")},
		}, "1.1.6.4", "patch.sh", ""},
		{"update.tar.gz", []tarMember{reg("patch.sh", "#!/bin/sh\n")}, "", "", "version must be in the file name"},
		{"omflow_patch_1_2_0.tar.gz", []tarMember{reg("patch.sh", "#!/bin/sh\n")}, "", "", "version must be in the file name"},
		{"omflow_patch_1_2_0_0.tar.gz", []tarMember{reg("readme.txt", "hi")}, "", "", "no manifest.json and no patch.sh"},
		{"omflow_patch_1_2_0_0.tar.gz", []tarMember{reg("a/b/patch.sh", "#!/bin/sh\n")}, "", "", "no patch.sh"},
		{"omflow_patch_1_2_0_0.tar.gz", []tarMember{reg("patch.sh", ""), reg("x/patch.sh", "")}, "", "", "more than one patch.sh"},
		{"omflow_patch_1_2_0_0.tar.gz", []tarMember{reg("patch.sh", ""), reg("../../etc/profile.d/x.sh", "")}, "", "", "leaves the root"},
		{"omflow_patch_1_2_0_0.tar.gz", []tarMember{reg("patch.sh", ""), {tar.Header{Name: "lib", Linkname: "/usr/lib", Typeflag: tar.TypeSymlink}, nil}}, "", "", "relative path"},
	}
	for _, c := range cases {
		t.Run(c.file+c.want, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), c.file)
			writeTarGz(t, file, c.members)
			p, err := Open(context.Background(), file, Options{AllowUnsigned: true})
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) || outcome.ExitCode(err) != 2 {
					t.Fatalf("err %v, want exit 2 and %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Legacy == nil || p.Version() != c.version || p.Legacy.Script != c.script || p.Signature != SigUnsigned {
				t.Fatalf("legacy %+v version %q signature %s", p.Legacy, p.Version(), p.Signature)
			}
			// without permission for unsigned packages, a legacy patch is refused
			var se *SignatureError
			if _, err := Open(context.Background(), file, Options{}); !errors.As(err, &se) || se.State != SigUnsigned {
				t.Errorf("not allowing unsigned: %v, want a SignatureError", err)
			}
			// extraction lays the archive out as tar xzf does, patch.sh executable
			dir, err := p.ExtractTemp(context.Background(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(filepath.Join(dir, c.script))
			if err != nil || st.Mode().Perm() != 0o755 {
				t.Errorf("extracted %s: %v %v, want mode 0755", c.script, st, err)
			}
		})
	}
}

func TestLegacyVersion(t *testing.T) {
	cases := []struct {
		file, want string
		ok         bool
	}{
		{"omflow_patch_1_2_0_0.tar.gz", "1.2.0.0", true},
		{"/tmp/omflow_patch_1_1_6_3.tgz", "1.1.6.3", true},
		{"omflow_patch_1_1_6_3fix3.tar.gz", "1.1.6.3fix3", true},
		{"omflow_patch_1_1_6_4_upgrade3.tar.gz", "1.1.6.4", true},
		{"omflow_patch_1_2_0.tar.gz", "", false},
		{"omflow_patch_1_2_0_0.zip", "", false},
		{"omflow_patch_01_2_0_0.tar.gz", "", false},
		{"patch.tar.gz", "", false},
	}
	for _, c := range cases {
		if got, ok := LegacyVersion(c.file); got != c.want || ok != c.ok {
			t.Errorf("LegacyVersion(%q) = %q, %v; want %q, %v", c.file, got, ok, c.want, c.ok)
		}
	}
}

// FuzzOpen feeds arbitrary bytes to the archive reader, as a .tar.gz and as a .zip: it
// must refuse or open, never panic, and never open a package whose manifest does not
// validate.
func FuzzOpen(f *testing.F) {
	k := newKey(f)
	for _, name := range []string{"u.tar.gz", "u.zip"} {
		b, err := os.ReadFile(goodPackage(f, k, filepath.Join(f.TempDir(), name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// the same package as one gzip stream, as an older pack wrote it (pack now writes
	// blocks, blocks.go): both readers are fuzzed
	var plain bytes.Buffer
	zw := gzip.NewWriter(&plain)
	zw.Write(goodTarStream(f, k))
	zw.Close()
	f.Add(plain.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		file := filepath.Join(t.TempDir(), "omflow_patch_1_2_0_0.tar.gz")
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		openFuzzed(t, file, k)
	})
}

// goodTarStream is the tar stream inside goodPackage's .tar.gz.
func goodTarStream(t testing.TB, k testKey) []byte {
	t.Helper()
	b, err := os.ReadFile(goodPackage(t, k, filepath.Join(t.TempDir(), "u.tar.gz")))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tarBytes, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return tarBytes
}

// FuzzOpenTar mutates packages inside the gzip layer: the tar stream itself (headers,
// names, sizes, link targets, the manifest), which FuzzOpen's mutations of the compressed
// bytes rarely reach. Whatever the archive holds, Open refuses it as unusable input or
// opens a package whose manifest validates; it never panics.
func FuzzOpenTar(f *testing.F) {
	k := newKey(f)
	f.Add(goodTarStream(f, k))
	f.Fuzz(func(t *testing.T, tarStream []byte) {
		var gz bytes.Buffer
		w := newBlockWriter(&gz, 1) // as pack writes it
		w.Write(tarStream)
		w.Close()
		file := filepath.Join(t.TempDir(), "omflow_update_1_2_0_0.tar.gz")
		if err := os.WriteFile(file, gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		openFuzzed(t, file, k)
	})
}

// openFuzzed opens a fuzzed package: Open refuses it as unusable input (exit 2) or opens
// a package whose manifest validates.
func openFuzzed(t *testing.T, file string, k testKey) {
	p, err := Open(context.Background(), file, Options{AllowUnsigned: true, Keys: []minisign.PublicKey{k.pub}, Limits: Limits{MaxBytes: 64 << 20}})
	if err != nil {
		if outcome.ExitCode(err) != outcome.ExitUnusable {
			t.Fatalf("exit code %d for %v", outcome.ExitCode(err), err)
		}
		return
	}
	if p.Manifest != nil {
		if err := p.Manifest.Validate(); err != nil {
			t.Fatalf("opened a package whose manifest does not validate: %v", err)
		}
	}
}
