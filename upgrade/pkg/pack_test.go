package pkg

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"aead.dev/minisign"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/outcome"
)

// release is a small OMFLOW release laid out as pack reads it, with the previous
// release's copy of its config files.
func release(t *testing.T) (src, old, licenses string) {
	t.Helper()
	src, old, licenses = t.TempDir(), t.TempDir(), t.TempDir()
	writeTree(t, src, map[string]string{
		"server/omflow/settings.py":            "LANGUAGE_CODE = 'zh-hant'\nDEBUG = False\n",
		"server/omflow/syscom/version.bin":     "version=1.2.0.0\nversion_num=001002000000\n",
		"server/omflow/views.py":               "def index(): pass\n",
		"server/ticket/migrations/0002_add.py": "# migration\n",
		"server/db.omflow":                     "SQLite format 3\x00",
		"server/site.ini":                      "[site]\n",
		"server/cache.bin":                     "cache",
		"apache/django.conf":                   "LoadModule wsgi_module python3.11\n",
		"python/bin/python3.11":                "#!/bin/sh\n",
	})
	if err := os.Symlink("python3.11", filepath.Join(src, "python/bin/python3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "python/bin/python3.11"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTree(t, old, map[string]string{
		"server/omflow/settings.py": "LANGUAGE_CODE = 'zh-hant'\nDEBUG = True\n",
		"server/omflow/views.py":    "old\n",
	})
	writeTree(t, licenses, map[string]string{
		"en.txt":      "License: you may use OMFLOW.\n",
		"zh-Hant.txt": "授權：您可以使用 OMFLOW。\n",
		"ja.txt":      "ライセンス：OMFLOW を使用できます。\n",
	})
	return src, old, licenses
}

func TestPackRoundTrip(t *testing.T) {
	k := newKey(t)
	for _, out := range []string{"u.tar.gz", "u.zip"} {
		t.Run(out, func(t *testing.T) {
			src, old, lic := release(t)
			file := filepath.Join(t.TempDir(), out)
			opts := PackOptions{
				SrcDir: src, Out: file, Key: k.priv, Version: "1.2.0.0", From: "1.1.6",
				Python: "3.11", Django: "4.2", LicenseDir: lic,
				Delete: []string{"server/omflow/old_view.py"},
				Config: []string{"server/site.ini"}, Data: []string{"server/cache.bin"},
				BaseDir: old,
			}
			if _, err := Pack(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			p, err := Open(context.Background(), file, Options{Keys: []minisign.PublicKey{k.pub}})
			if err != nil {
				t.Fatal(err)
			}
			m := p.Manifest
			if m.Version != "1.2.0.0" || m.From != "1.1.6" || m.Requires != (Requires{"3.11", "4.2"}) ||
				!reflect.DeepEqual(m.Delete, []string{"server/omflow/old_view.py"}) || !m.TouchesMigrations() {
				t.Errorf("manifest %+v", m)
			}
			kinds := map[string]Kind{
				"server/omflow/settings.py":        KindConfig,
				"apache/django.conf":               KindConfig,
				"server/site.ini":                  KindConfig,
				"server/db.omflow":                 KindData,
				"server/cache.bin":                 KindData,
				"server/omflow/views.py":           KindFile,
				"server/omflow/syscom/version.bin": KindFile,
			}
			for p, want := range kinds {
				if f, _ := m.File(p); f.Kind != want {
					t.Errorf("%s: kind %q, want %q", p, f.Kind, want)
				}
			}
			if f, _ := m.File("server/omflow/views.py"); f.Base != nil {
				t.Errorf("views.py is no config file but has a base copy")
			}
			if f, _ := m.File("python/bin/python3"); f.Link != "python3.11" {
				t.Errorf("python3 link: %+v", f)
			}
			if text, tag, _ := m.License("zh-TW"); tag != "zh-Hant" || !strings.Contains(text, "授權") {
				t.Errorf("license for zh-TW: %s %q", tag, text)
			}

			dir, err := p.ExtractTemp(context.Background(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			sameTree(t, src, PayloadDir(dir))
			got, err := os.ReadFile(filepath.Join(BaseDir(dir), "server/omflow/settings.py"))
			if want, _ := os.ReadFile(filepath.Join(old, "server/omflow/settings.py")); err != nil || !bytes.Equal(got, want) {
				t.Errorf("base copy of settings.py: %q %v, want %q", got, err, want)
			}
			if _, err := os.Stat(filepath.Join(BaseDir(dir), "server/omflow/views.py")); err == nil {
				t.Errorf("base copy of a file that is not config")
			}
		})
	}
}

// sameTree fails unless b holds the same files, links and permission bits as a.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	seen := 0
	err := filepath.Walk(a, func(p string, ai os.FileInfo, err error) error {
		if err != nil || ai.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		q := filepath.Join(b, rel)
		bi, err := os.Lstat(q)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		seen++
		if ai.Mode() != bi.Mode() {
			t.Errorf("%s: mode %v, want %v", rel, bi.Mode(), ai.Mode())
		}
		if ai.Mode()&os.ModeSymlink != 0 {
			la, _ := os.Readlink(p)
			lb, _ := os.Readlink(q)
			if la != lb {
				t.Errorf("%s: link to %q, want %q", rel, lb, la)
			}
			return nil
		}
		ca, _ := os.ReadFile(p)
		cb, _ := os.ReadFile(q)
		if !bytes.Equal(ca, cb) {
			t.Errorf("%s: content differs", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	filepath.Walk(b, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	if n != seen {
		t.Errorf("%s holds %d files, %s %d", b, n, a, seen)
	}
}

func TestPackIsReproducible(t *testing.T) {
	k := newKey(t)
	src, old, lic := release(t)
	var outs [][]byte
	for i := 0; i < 2; i++ {
		file := filepath.Join(t.TempDir(), "u.tar.gz")
		if _, err := Pack(context.Background(), PackOptions{SrcDir: src, Out: file, Key: k.priv, Version: "1.2.0.0", BaseDir: old, LicenseDir: lic}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(file)
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("the same input packed twice gives different packages")
	}
}

func TestPackRefusesBadInput(t *testing.T) {
	k := newKey(t)
	cases := []struct {
		name  string
		setup func(t *testing.T, o *PackOptions)
		want  string
	}{
		{"malformed version", func(t *testing.T, o *PackOptions) { o.Version = "1.2.0" }, `version "1.2.0"`},
		{"v prefix", func(t *testing.T, o *PackOptions) { o.Version = "v1.2.0.0" }, `version "v1.2.0.0"`},
		{"malformed from", func(t *testing.T, o *PackOptions) { o.From = "1.1" }, `"1.1"`},
		{"malformed python", func(t *testing.T, o *PackOptions) { o.Python = "three" }, `python "three"`},
		{"no key", func(t *testing.T, o *PackOptions) { o.Key = minisign.PrivateKey{} }, "no secret key"},
		{"missing source", func(t *testing.T, o *PackOptions) { o.SrcDir = filepath.Join(o.SrcDir, "nope") }, "no such file"},
		{"empty source", func(t *testing.T, o *PackOptions) { o.SrcDir = t.TempDir() }, "empty update"},
		{"output name", func(t *testing.T, o *PackOptions) { o.Out = strings.TrimSuffix(o.Out, ".tar.gz") + ".rar" }, "want a .tar.gz"},
		{"output folder missing", func(t *testing.T, o *PackOptions) { o.Out = filepath.Join(o.Out, "x", "u.tar.gz") }, "folder does not exist"},
		{"output inside the source", func(t *testing.T, o *PackOptions) { o.Out = filepath.Join(o.SrcDir, "u.tar.gz") }, "inside the source folder"},
		{"the database deleted", func(t *testing.T, o *PackOptions) { o.Delete = []string{"server/db.omflow"} }, "never deleted"},
		{"a data file deleted", func(t *testing.T, o *PackOptions) {
			o.Data, o.Delete = []string{"server/site.sqlite3"}, []string{"server/site.sqlite3"}
		}, "data file"},
		{"link out of the root", func(t *testing.T, o *PackOptions) {
			os.Symlink("../../etc/passwd", filepath.Join(o.SrcDir, "server/passwd"))
		}, "points outside"},
		{"absolute link", func(t *testing.T, o *PackOptions) {
			os.Symlink("/etc/passwd", filepath.Join(o.SrcDir, "server/passwd"))
		}, "relative path"},
		{"names differing in case", func(t *testing.T, o *PackOptions) {
			writeTree(t, o.SrcDir, map[string]string{"server/VIEW.txt": "x"})
		}, "differ only in case"},
		{"config and data", func(t *testing.T, o *PackOptions) {
			o.Config, o.Data = []string{"server/x"}, []string{"server/x"}
		}, "both config and data"},
		{"delete a payload file", func(t *testing.T, o *PackOptions) { o.Delete = []string{"server/view.txt"} }, "listed twice"},
		{"delete outside", func(t *testing.T, o *PackOptions) { o.Delete = []string{"../etc/passwd"} }, "leaves the root"},
		{"license name", func(t *testing.T, o *PackOptions) {
			o.LicenseDir = t.TempDir()
			writeTree(t, o.LicenseDir, map[string]string{"en.txt": "x", "LICENSE": "x"})
		}, `"LICENSE"`},
		{"license language", func(t *testing.T, o *PackOptions) {
			o.LicenseDir = t.TempDir()
			writeTree(t, o.LicenseDir, map[string]string{"en.txt": "x", "klingon-xx-yy-zz.txt": "x"})
		}, "BCP 47"},
		{"license without English", func(t *testing.T, o *PackOptions) {
			o.LicenseDir = t.TempDir()
			writeTree(t, o.LicenseDir, map[string]string{"ja.txt": "x"})
		}, "no en.txt"},
		{"license not UTF-8", func(t *testing.T, o *PackOptions) {
			o.LicenseDir = t.TempDir()
			writeTree(t, o.LicenseDir, map[string]string{"en.txt": "\xff\xfe"})
		}, "not UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, map[string]string{"server/view.txt": "x"})
			outDir := t.TempDir()
			o := PackOptions{SrcDir: src, Out: filepath.Join(outDir, "u.tar.gz"), Key: k.priv, Version: "1.2.0.0"}
			c.setup(t, &o)
			_, err := Pack(context.Background(), o)
			if err == nil || outcome.ExitCode(err) != outcome.ExitUnusable || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want exit 2 and %q", err, c.want)
			}
			if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
				t.Errorf("pack left %v behind", ents)
			}
		})
	}
}

func TestReadList(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("# config files\nserver/site.ini\r\n\n  Apache24\\conf\\extra.conf  \n"), 0o644)
	got, err := ReadList(good)
	if want := []string{"server/site.ini", "Apache24/conf/extra.conf"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ReadList = %q, %v; want %q", got, err, want)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("server/ok\n/etc/passwd\n"), 0o644)
	if _, err := ReadList(bad); err == nil || !strings.Contains(err.Error(), "line 2") || outcome.ExitCode(err) != 2 {
		t.Errorf("absolute path in a list: %v, want exit 2 naming line 2", err)
	}
	if _, err := ReadList(filepath.Join(dir, "missing")); outcome.ExitCode(err) != 2 {
		t.Errorf("missing list: %v, want exit 2", err)
	}
}

// TestMinisignInterop checks the signatures against the standard minisign tool, as a
// release engineer uses it: a package's manifest verifies with `minisign -V` after
// `tar xzf`, keygen's secret key signs with `minisign -S`, and a key pair made by
// `minisign -G -W` packs and opens.
func TestMinisignInterop(t *testing.T) {
	mini, err := exec.LookPath("minisign")
	if err != nil {
		testneed.Missing(t, "minisign (apt-get install minisign)")
	}
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		testneed.Missing(t, "tar (apt-get install tar)")
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Stdin = strings.NewReader("")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	k := newKey(t)
	file := goodPackage(t, k, filepath.Join(t.TempDir(), "u.tar.gz"))
	x := t.TempDir()
	run(tarBin, "xzf", file, "-C", x)
	run(mini, "-Vm", filepath.Join(x, ManifestName), "-p", k.pubFile)

	// a tampered manifest does not verify with minisign either
	man := filepath.Join(x, ManifestName)
	b, _ := os.ReadFile(man)
	os.WriteFile(man, bytes.Replace(b, []byte("1.1.6.3"), []byte("1.1.6.4"), 1), 0o644)
	if err := exec.Command(mini, "-Vm", man, "-p", k.pubFile).Run(); err == nil {
		t.Error("minisign verified a tampered manifest")
	}

	// keygen's secret key works with minisign -S (its checksum is right)
	msg := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(msg, []byte("hello"), 0o644)
	run(mini, "-S", "-s", k.privF, "-m", msg)
	run(mini, "-Vm", msg, "-p", k.pubFile)

	// a minisign -G -W key pair packs, and its public key opens the package
	kd := t.TempDir()
	pubFile, privFile := filepath.Join(kd, "m.pub"), filepath.Join(kd, "m.key")
	run(mini, "-G", "-W", "-p", pubFile, "-s", privFile)
	priv, err := LoadPrivateKey(privFile, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeTree(t, src, map[string]string{"server/a.txt": "a"})
	out := filepath.Join(t.TempDir(), "m.tar.gz")
	if _, err := Pack(context.Background(), PackOptions{SrcDir: src, Out: out, Key: priv, Version: "1.2.0.1"}); err != nil {
		t.Fatal(err)
	}
	if p, err := Open(context.Background(), out, Options{Keys: []minisign.PublicKey{pub}}); err != nil || p.Signature != SigVerified {
		t.Fatalf("open a package signed with a minisign -G key: %v", err)
	}

	// a manifest signed by minisign -S itself opens too
	y := t.TempDir()
	run(tarBin, "xzf", out, "-C", y)
	os.Remove(filepath.Join(y, SignatureName))
	run(mini, "-S", "-s", privFile, "-m", filepath.Join(y, ManifestName))
	resigned := filepath.Join(t.TempDir(), "r.tar.gz")
	run(tarBin, "czf", resigned, "-C", y, ManifestName, SignatureName, "payload")
	if p, err := Open(context.Background(), resigned, Options{Keys: []minisign.PublicKey{pub}}); err != nil || p.Signature != SigVerified {
		t.Fatalf("open a package signed by minisign -S and packed by tar: %v", err)
	}
}

func TestGenerateKeyNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	pub, priv, err := GenerateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(priv)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("secret key mode %v, %v; want 0600", st.Mode(), err)
	}
	before, _ := os.ReadFile(priv)
	if _, _, err := GenerateKey(dir); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Errorf("second keygen: %v, want a refusal", err)
	}
	if after, _ := os.ReadFile(priv); !bytes.Equal(before, after) {
		t.Error("the secret key changed")
	}
	if _, err := LoadPublicKey(pub); err != nil {
		t.Error(err)
	}
	if _, err := LoadPublicKey(priv); err == nil {
		t.Error("a secret key read as a public key")
	}
}

func TestBuiltinPublicKey(t *testing.T) {
	if BuiltinPublicKey().ID() == 0 {
		t.Error("no built-in release key")
	}
}

func TestLoadKeys(t *testing.T) {
	k := newKey(t)
	// the bare key line, as `minisign -P` takes it
	b, _ := os.ReadFile(k.pubFile)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if pub, err := ParsePublicKey([]byte(lines[len(lines)-1])); err != nil || !pub.Equal(k.pub) {
		t.Errorf("bare public key line: %v", err)
	}
	// an encrypted secret key (minisign -G without -W) needs its password
	raw, _ := os.ReadFile(k.privF)
	comment, enc, _ := strings.Cut(string(raw), "\n")
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		t.Fatal(err)
	}
	copy(dec[2:4], "Sc") // the scrypt KDF marker
	encrypted := filepath.Join(t.TempDir(), "enc.key")
	os.WriteFile(encrypted, []byte(comment+"\n"+base64.StdEncoding.EncodeToString(dec)+"\n"), 0o600)
	if _, err := LoadPrivateKey(encrypted, ""); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("encrypted key without a password: %v, want a request for the password", err)
	}
	if _, err := LoadPrivateKey(k.pubFile, ""); err == nil {
		t.Error("a public key read as a secret key")
	}
}

// Pack records the payload's SQLite database as the release's schema reference: the
// default data path first, another SQLite data file when it is the only one, and
// nothing for a data file that is not a database.
func TestPackRecordsTheReleasesDatabase(t *testing.T) {
	k := newKey(t)
	const sqlite = "SQLite format 3\x00 and the rest of a database"
	cases := []struct {
		name  string
		files map[string]string
		data  []string
		want  string
		err   string
	}{
		{"default path", map[string]string{"server/db.omflow": sqlite, "server/extra.db": sqlite}, []string{"server/extra.db"}, "server/db.omflow", ""},
		{"the only SQLite data file", map[string]string{"server/site.sqlite3": sqlite}, []string{"server/site.sqlite3"}, "server/site.sqlite3", ""},
		{"not a database", map[string]string{"server/db.omflow": "OMFLOW demo database stand-in\n"}, nil, "", ""},
		{"a database that is not data", map[string]string{"server/fixtures.db": sqlite}, nil, "", ""},
		{"two and no default", map[string]string{"server/a.db": sqlite, "server/b.db": sqlite}, []string{"server/a.db", "server/b.db"}, "", "several SQLite data files"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, tc.files)
			m, err := Pack(context.Background(), PackOptions{SrcDir: src, Out: filepath.Join(t.TempDir(), "u.tar.gz"),
				Key: k.priv, Version: "1.1.0.0", Data: tc.data})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("pack: %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Schema != tc.want {
				t.Fatalf("schema %q, want %q", m.Schema, tc.want)
			}
		})
	}
}

func TestManifestSchemaMustBeADataFile(t *testing.T) {
	m := &Manifest{Format: FormatVersion, Product: Product, Version: "1.1.0.0", Schema: "server/views.py",
		Files: []File{{Path: "server/views.py", Kind: KindFile, Mode: 0o644, SHA256: strings.Repeat("0", 64)}}}
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), `schema "server/views.py"`) {
		t.Fatalf("validate: %v, want the schema refused", err)
	}
	m.Files[0].Kind = KindData
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
}
