package trust

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/outcome"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

type keyPair struct {
	pub  minisign.PublicKey
	priv minisign.PrivateKey
}

func newKey(t testing.TB) keyPair {
	t.Helper()
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{pub, priv}
}

// signManifest signs a manifest as pack does (prehashed).
func signManifest(k keyPair, m []byte) []byte {
	r := minisign.NewReader(bytes.NewReader(m))
	io.Copy(io.Discard, r)
	return r.SignWithComments(k.priv, "omflow-upgrade package", "test")
}

func pkgOf(k keyPair, version, hash string) Package {
	m := []byte(`{"version":"` + version + `"}`)
	return Package{Manifest: m, Signature: signManifest(k, m), Version: version, Hash: func() (string, error) { return hash, nil }}
}

func mustInit(t *testing.T, root keyPair, c Change) *Signed {
	t.Helper()
	c.Now = t0
	s, err := Init(root.priv, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustRotate(t *testing.T, prev *Signed, root keyPair, c Change) *Signed {
	t.Helper()
	if c.Now.IsZero() {
		c.Now = t0
	}
	s, err := Rotate(prev, root.priv, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sum1 = "1111111111111111111111111111111111111111111111111111111111111111"

// TestRefusals: every policy refusal is a typed reason (exit 3); a broken chain is a
// ChainError (exit 2).
func TestRefusals(t *testing.T) {
	root, other := newKey(t), newKey(t)
	k1, k2 := newKey(t), newKey(t)
	doc1 := mustInit(t, root, Change{Add: []minisign.PublicKey{k1.pub}})
	doc2 := mustRotate(t, doc1, root, Change{Add: []minisign.PublicKey{k2.pub}, Revoke: []minisign.PublicKey{k1.pub},
		RevokePackages: []string{sum1}, MinVersion: "1.1.6.2"})
	foreign := mustInit(t, other, Change{Add: []minisign.PublicKey{k1.pub}})
	roots := []minisign.PublicKey{root.pub}
	for _, tc := range []struct {
		name           string
		kept, carried  *Signed
		roots          []minisign.PublicKey
		pkg            Package
		now            time.Time
		reason         outcome.Reason
		chain, keep    bool
		wantDocSerial  uint64
		wantNoDocument bool
	}{
		{name: "current key", carried: doc1, pkg: pkgOf(k1, "1.1.6.3", ""), keep: true, wantDocSerial: 1},
		{name: "expired key", carried: doc1, pkg: pkgOf(k1, "1.1.6.3", ""), now: t0.Add(DefaultValidity), reason: ReasonKeyExpired, keep: true},
		{name: "revoked key", carried: doc2, pkg: pkgOf(k1, "1.1.6.3", ""), reason: ReasonKeyRevoked, keep: true},
		{name: "revoked key, kept document", kept: doc2, pkg: pkgOf(k1, "1.1.6.3", ""), reason: ReasonKeyRevoked},
		{name: "revoked package", carried: doc2, pkg: pkgOf(k2, "1.1.6.3", sum1), reason: ReasonPackageRevoked, keep: true},
		{name: "below the floor", carried: doc2, pkg: pkgOf(k2, "1.1.6.1", ""), reason: ReasonBelowFloor, keep: true},
		{name: "floor of the kept document", kept: doc2, pkg: pkgOf(k2, "1.1.6.1", ""), reason: ReasonBelowFloor},
		{name: "older document than the kept one", kept: doc2, carried: doc1, pkg: pkgOf(k2, "1.1.6.3", ""), reason: ReasonRollback},
		{name: "older document, revoked key: the key is named", kept: doc2, carried: doc1, pkg: pkgOf(k1, "1.1.6.3", ""), reason: ReasonKeyRevoked},
		{name: "same document as kept", kept: doc1, carried: doc1, pkg: pkgOf(k1, "1.1.6.3", ""), wantDocSerial: 1},
		{name: "untrusted root", carried: foreign, pkg: pkgOf(k1, "1.1.6.3", ""), chain: true},
		{name: "key not listed", carried: doc1, pkg: pkgOf(k2, "1.1.6.3", ""), chain: true},
		{name: "no document", pkg: pkgOf(k1, "1.1.6.3", ""), wantNoDocument: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Roots: roots, Kept: tc.kept, Carried: tc.carried, Now: t0.Add(time.Hour)}
			if !tc.now.IsZero() {
				in.Now = tc.now
			}
			v, err := Evaluate(in, tc.pkg)
			var ce *ChainError
			if tc.chain {
				if !errors.As(err, &ce) {
					t.Fatalf("want a broken chain, got %v %+v", err, v)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNoDocument != (v.Doc == nil) {
				t.Fatalf("document %v", v.Doc)
			}
			var got outcome.Reason
			if v.Refusal != nil {
				got = v.Refusal.Reason
				if outcome.ExitCode(v.Refusal) != outcome.ExitRefused {
					t.Errorf("exit %d", outcome.ExitCode(v.Refusal))
				}
			}
			if got != tc.reason {
				t.Fatalf("refusal %q (%v), want %q", got, v.Refusal, tc.reason)
			}
			if v.Keep != tc.keep {
				t.Errorf("keep %v, want %v", v.Keep, tc.keep)
			}
			if tc.wantDocSerial != 0 && v.Doc.Doc.Serial != tc.wantDocSerial {
				t.Errorf("serial %d", v.Doc.Doc.Serial)
			}
		})
	}
}

// TestTwoRotations: a program that trusts root 1 only follows a root rotation (2,
// cross-signed) then a key rotation signed by the new root alone (3); once 2 is kept the
// old root is trusted no more, and the cross-signed document is accepted exactly once.
func TestTwoRotations(t *testing.T) {
	root1, root2 := newKey(t), newKey(t)
	k1, k2 := newKey(t), newKey(t)
	doc1 := mustInit(t, root1, Change{Add: []minisign.PublicKey{k1.pub}})
	doc2 := mustRotate(t, doc1, root1, Change{NewRoot: &root2.priv, Add: []minisign.PublicKey{k2.pub}})
	doc3 := mustRotate(t, doc2, root2, Change{Revoke: []minisign.PublicKey{k1.pub}})
	if doc2.Cross == nil || doc3.Cross != nil {
		t.Fatal("the root rotation alone is cross-signed")
	}
	old := []minisign.PublicKey{root1.pub} // the old program's built-in root
	now := t0.Add(time.Hour)

	v, err := Evaluate(Input{Roots: old, Kept: doc1, Carried: doc2, Now: now}, pkgOf(k2, "1.1.6.3", ""))
	if err != nil || v.Refusal != nil || !v.Keep {
		t.Fatalf("root rotation: %v %+v", err, v)
	}
	kept := doc2
	v, err = Evaluate(Input{Roots: old, Kept: kept, Carried: doc3, Now: now}, pkgOf(k2, "1.1.6.4", ""))
	if err != nil || v.Refusal != nil || !v.Keep {
		t.Fatalf("document signed by the new root: %v %+v", err, v)
	}
	kept = doc3
	v, err = Evaluate(Input{Roots: old, Kept: kept, Now: now}, pkgOf(k1, "1.1.6.4", ""))
	if err != nil || v.Refusal == nil || v.Refusal.Reason != ReasonKeyRevoked {
		t.Fatalf("old key after rotation: %v %+v", err, v)
	}
	// the old root signs a serial 4: refused, it is trusted no more
	forged := mustRotate(t, doc1, root1, Change{Add: []minisign.PublicKey{newKey(t).pub}})
	forged.Doc.Serial = 4
	forged, _ = Sign(forged.Doc, root1.priv, nil)
	var ce *ChainError
	if _, err := Evaluate(Input{Roots: old, Kept: kept, Carried: forged, Now: now}, pkgOf(k2, "1.1.6.4", "")); !errors.As(err, &ce) {
		t.Fatalf("old root after rotation: %v", err)
	}
	// the cross-signed document again: older than the kept one
	v, err = Evaluate(Input{Roots: old, Kept: kept, Carried: doc2, Now: now}, pkgOf(k2, "1.1.6.4", ""))
	if err != nil || v.Refusal == nil || v.Refusal.Reason != ReasonRollback {
		t.Fatalf("rotation document replayed: %v %+v", err, v)
	}
	// an installation that skipped document 2 follows a document 3 that the replaced
	// root keeps cross-signing; without the cross-signature it cannot
	if _, err := Evaluate(Input{Roots: old, Kept: doc1, Carried: doc3, Now: now}, pkgOf(k2, "1.1.6.4", "")); !errors.As(err, &ce) {
		t.Fatalf("skipped rotation, no cross-signature: %v", err)
	}
	doc3x := mustRotate(t, doc2, root2, Change{Revoke: []minisign.PublicKey{k1.pub}, CrossRoot: &root1.priv})
	if doc3x.Cross == nil || doc3x.Doc.PreviousRoot != doc2.Doc.PreviousRoot {
		t.Fatal("document 3 is not cross-signed by root 1")
	}
	v, err = Evaluate(Input{Roots: old, Kept: doc1, Carried: doc3x, Now: now}, pkgOf(k2, "1.1.6.4", ""))
	if err != nil || v.Refusal != nil || !v.Keep {
		t.Fatalf("skipped rotation, cross-signed: %v %+v", err, v)
	}
	if _, err := Rotate(doc3, root2.priv, Change{Now: t0, CrossRoot: &root1.priv}); err == nil {
		t.Fatal("cross-signed a document that names no previous root")
	}
	// a new program that carries root 2 takes document 3 directly
	if v, err := Evaluate(Input{Roots: []minisign.PublicKey{root2.pub}, Carried: doc3, Now: now}, pkgOf(k2, "1.1.6.4", "")); err != nil || v.Refusal != nil {
		t.Fatalf("new program: %v %+v", err, v)
	}
}

func TestRotateRules(t *testing.T) {
	root, other := newKey(t), newKey(t)
	k1, k2 := newKey(t), newKey(t)
	doc1 := mustInit(t, root, Change{Add: []minisign.PublicKey{k1.pub}, MinVersion: "1.1.6.0"})
	for _, tc := range []struct {
		name string
		root keyPair
		c    Change
		want string
	}{
		{"wrong root", other, Change{Add: []minisign.PublicKey{k2.pub}}, "is signed by root"},
		{"floor down", root, Change{MinVersion: "1.1.5.0"}, "never goes down"},
		{"no key left", root, Change{Revoke: []minisign.PublicKey{k1.pub}}, "no release key would be left"},
		{"add twice", root, Change{Add: []minisign.PublicKey{k1.pub}}, "already"},
		{"revoke unknown", root, Change{Revoke: []minisign.PublicKey{k2.pub}}, "nothing to revoke"},
		{"root as release key", root, Change{Add: []minisign.PublicKey{root.pub}}, "root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Now = t0
			if _, err := Rotate(doc1, tc.root.priv, tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	doc2 := mustRotate(t, doc1, root, Change{Add: []minisign.PublicKey{k2.pub}, Revoke: []minisign.PublicKey{k1.pub}})
	if _, err := Rotate(doc2, root.priv, Change{Now: t0, Add: []minisign.PublicKey{k1.pub}}); err == nil {
		t.Fatal("a revoked key came back")
	}
	if doc2.Doc.Serial != 2 || doc2.Doc.MinVersion != "1.1.6.0" {
		t.Fatalf("%+v", doc2.Doc)
	}
}

// TestParseRefuses: the strict reader, on the fixtures in testdata/.
func TestParseRefuses(t *testing.T) {
	good, err := os.ReadFile("testdata/keys.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("testdata/keys.json: %v", err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown field", `"serial": 2,`, `"serial": 2, "extra": 1,`, "unknown field"},
		{"field twice", `"serial": 2,`, `"serial": 2, "serial": 3,`, "given twice"},
		{"bad date", `"not_after": "2027-12-04T12:00:00Z"`, `"not_after": "2027-12-04"`, "not a time"},
		{"local time", `"issued": "2026-12-04T12:00:00Z"`, `"issued": "2026-12-04T13:00:00+01:00"`, "UTC"},
		{"serial 0", `"serial": 2,`, `"serial": 0,`, "serial"},
		{"format", `"format": 1,`, `"format": 2,`, "format 2"},
		{"revoked twice", `"8E0B2C4F1A3D5E67"`, `"8E0B2C4F1A3D5E67", "8E0B2C4F1A3D5E67"`, "listed twice"},
		{"lower-case id", `"8E0B2C4F1A3D5E67"`, `"8e0b2c4f1a3d5e67"`, "upper-case hex"},
		{"trusted and revoked", `"8E0B2C4F1A3D5E67"`, `"D0CA502B6431B4F1"`, "both trusted and revoked"},
		{"bad hash", `"revoked_packages": [`, `"revoked_packages": ["abc",`, "SHA-256"},
		{"bad floor", `"min_version": "1.1.6.0"`, `"min_version": "1.1"`, "min_version"},
		{"wrong id", `"id": "D0CA502B6431B4F1"`, `"id": "D0CA502B6431B4F2"`, "the key's id"},
		{"trailing data", "}\n", "}\n{}", "keys document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(b, good) {
				t.Fatalf("fixture lacks %q", tc.from)
			}
			if _, err := Parse(b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	good, _ := os.ReadFile("testdata/keys.json")
	f.Add(good)
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"a":{"a":1,"a":2}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		// what the reader takes, the writer writes back, and it reads the same
		out, err := d.Marshal()
		if err != nil {
			t.Fatalf("accepted but not writable: %v", err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("written back, refused: %v", err)
		}
	})
}

// TestMinisignVerifies: every signature the keys document carries verifies with the
// standard minisign tool (apt-get install minisign; make deps-test installs it).
func TestMinisignVerifies(t *testing.T) {
	mini, err := exec.LookPath("minisign")
	if err != nil {
		t.Fatal("minisign is not installed: run make deps-test (apt-get install minisign)")
	}
	root1, root2, k1 := newKey(t), newKey(t), newKey(t)
	doc1 := mustInit(t, root1, Change{Add: []minisign.PublicKey{k1.pub}})
	doc2 := mustRotate(t, doc1, root1, Change{NewRoot: &root2.priv})
	dir := t.TempDir()
	writePub := func(name string, k minisign.PublicKey) string {
		p := filepath.Join(dir, name)
		text, _ := k.MarshalText()
		os.WriteFile(p, append(text, '\n'), 0o644)
		return p
	}
	r1, r2 := writePub("root1.pub", root1.pub), writePub("root2.pub", root2.pub)
	file := filepath.Join(dir, "keys.json")
	verify := func(pub, sig string) {
		t.Helper()
		out, err := exec.Command(mini, "-V", "-m", file, "-x", sig, "-p", pub).CombinedOutput()
		if err != nil {
			t.Fatalf("minisign -V -x %s -p %s: %v\n%s", sig, pub, err, out)
		}
	}
	if err := doc1.WriteFiles(file); err != nil {
		t.Fatal(err)
	}
	verify(r1, file+SignatureExt)
	if err := doc2.WriteFiles(file); err != nil {
		t.Fatal(err)
	}
	verify(r2, file+SignatureExt)
	verify(r1, file+CrossExt)
	back, err := ReadFiles(file)
	if err != nil || back.Doc.Serial != 2 {
		t.Fatalf("read back: %v", err)
	}
	// a changed document verifies with neither
	os.WriteFile(file, bytes.Replace(doc2.Raw, []byte(`"serial": 2`), []byte(`"serial": 9`), 1), 0o644)
	if err := exec.Command(mini, "-V", "-m", file, "-x", file+SignatureExt, "-p", r2).Run(); err == nil {
		t.Fatal("minisign verified a changed document")
	}
	if _, err := ReadFiles(file); err == nil {
		t.Fatal("a changed document was read")
	}
}
