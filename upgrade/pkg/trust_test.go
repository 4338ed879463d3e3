package pkg

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/trust"
)

// keysPackage packs a small update signed by k that carries a keys document (serial 1)
// of root trusting k; it returns the package and the root.
func keysPackage(t *testing.T, k testKey) (string, testKey) {
	t.Helper()
	root := newKey(t)
	doc, err := trust.Init(root.priv, trust.Change{Add: []minisign.PublicKey{k.pub}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	writeTree(t, src, map[string]string{"server/view.txt": "new view\n"})
	out := filepath.Join(t.TempDir(), "u.tar.gz")
	if _, err := Pack(context.Background(), PackOptions{SrcDir: src, Out: out, Key: k.priv, Version: "1.1.6.3", Keys: doc}); err != nil {
		t.Fatal(err)
	}
	return out, root
}

// TestOpenKeysDocument: a package carrying a keys document opens (whole, and head only)
// when it leads to the trusted root; a changed, misplaced or half document, and an
// untrusted root, are a bad signature (exit 2).
func TestOpenKeysDocument(t *testing.T) {
	k := newKey(t)
	file, root := keysPackage(t, k)
	roots := []minisign.PublicKey{root.pub}
	for _, head := range []bool{false, true} {
		p, err := Open(context.Background(), file, Options{Roots: roots, HeadOnly: head})
		if err != nil {
			t.Fatalf("head only %v: %v", head, err)
		}
		if p.Signature != SigVerified || p.Trust == nil || p.Trust.Doc == nil || !p.Trust.Keep || p.KeyID != KeyID(k.pub.ID()) {
			t.Fatalf("head only %v: %+v %+v", head, p, p.Trust)
		}
	}
	edit := func(f func([]tarMember) []tarMember) string {
		out := filepath.Join(t.TempDir(), "x.tar.gz")
		writeTarGz(t, out, f(readTarGz(t, file)))
		return out
	}
	for _, tc := range []struct {
		name  string
		file  string
		roots []minisign.PublicKey
	}{
		{"untrusted root", file, []minisign.PublicKey{newKey(t).pub}},
		{"changed document", edit(func(ms []tarMember) []tarMember {
			for i := range ms {
				if ms[i].h.Name == KeysName {
					ms[i].body = bytes.Replace(ms[i].body, []byte(`"serial": 1`), []byte(`"serial": 7`), 1)
				}
			}
			return ms
		}), roots},
		{"signature without document", edit(func(ms []tarMember) []tarMember {
			var out []tarMember
			for _, m := range ms {
				if m.h.Name != KeysName {
					out = append(out, m)
				}
			}
			return out
		}), roots},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), tc.file, Options{Roots: tc.roots})
			var se *SignatureError
			if !errors.As(err, &se) || se.State != SigInvalid || outcome.ExitCode(err) != outcome.ExitUnusable {
				t.Fatalf("got %v, want an invalid signature (exit 2)", err)
			}
		})
	}
}

// TestPackRefusesKeyNotInDocument: pack signs only with a key the document trusts.
func TestPackRefusesKeyNotInDocument(t *testing.T) {
	k, other := newKey(t), newKey(t)
	root := newKey(t)
	doc, err := trust.Init(root.priv, trust.Change{Add: []minisign.PublicKey{k.pub}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	writeTree(t, src, map[string]string{"server/view.txt": "v\n"})
	_, err = Pack(context.Background(), PackOptions{SrcDir: src, Out: filepath.Join(t.TempDir(), "u.tar.gz"), Key: other.priv, Version: "1.1.6.3", Keys: doc})
	if outcome.ExitCode(err) != outcome.ExitUnusable {
		t.Fatalf("got %v, want exit 2", err)
	}
}
