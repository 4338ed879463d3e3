package pkg

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/outcome"
)

func TestExtract(t *testing.T) {
	k := newKey(t)
	file := goodPackage(t, k, filepath.Join(t.TempDir(), "u.tar.gz"))
	var last, total int64
	p, err := Open(context.Background(), file, Options{
		Keys:     []minisign.PublicKey{k.pub},
		Progress: func(done, all int64) { last, total = done, all },
	})
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dir, err := p.ExtractTemp(context.Background(), parent)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != parent {
		t.Errorf("extracted into %s, want a folder in %s", dir, parent)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("extraction folder mode %v, want 0700 (private)", st.Mode().Perm())
	}
	got, err := os.ReadFile(filepath.Join(PayloadDir(dir), "server/view.txt"))
	if err != nil || string(got) != "new view\n" {
		t.Errorf("view.txt: %q %v", got, err)
	}
	if st, err := os.Stat(filepath.Join(PayloadDir(dir), "server/bin/tool.sh")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("tool.sh: %v %v, want mode 0755", st, err)
	}
	if total != p.Manifest.PayloadSize() || last != total || total == 0 {
		t.Errorf("progress ended at %d of %d, want %d of %d", last, total, p.Manifest.PayloadSize(), p.Manifest.PayloadSize())
	}
	// the package's own manifest is extracted too, byte for byte what was verified
	if b, err := os.ReadFile(filepath.Join(dir, ManifestName)); err != nil || string(b) != string(p.manifestRaw) {
		t.Errorf("extracted manifest differs from the verified one: %v", err)
	}

	if err := p.Extract(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("extract into a full folder: %v, want refused", err)
	}
}

// TestExtractChecksAgain: a package file swapped after Open (a tampered payload, or another
// manifest) is refused while extracting, and ExtractTemp leaves nothing behind.
func TestExtractChecksAgain(t *testing.T) {
	k := newKey(t)
	cases := []struct {
		name   string
		mutate mutate
		want   string
	}{
		{"payload changed", edit("payload/server/view.txt", func(m *tarMember) { m.body = []byte("evil vie\n") }), "the payload was changed"},
		{"payload added", add(reg("payload/server/extra.sh", "x")), "not listed in the manifest"},
		{"payload gone", drop("payload/server/view.txt"), "the archive lacks it"},
		{"manifest changed", edit(ManifestName, func(m *tarMember) { m.body = append(m.body, ' ') }), "manifest changed"},
		{"manifest gone", drop(ManifestName), "manifest is gone"},
		{"traversal", add(reg("../../evil", "x")), "leaves the root"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := goodPackage(t, k, filepath.Join(t.TempDir(), "u.tar.gz"))
			p, err := Open(context.Background(), file, Options{Keys: []minisign.PublicKey{k.pub}})
			if err != nil {
				t.Fatal(err)
			}
			writeTarGz(t, file, c.mutate(t, readTarGz(t, file)))
			parent := t.TempDir()
			_, err = p.ExtractTemp(context.Background(), parent)
			if err == nil || !strings.Contains(err.Error(), c.want) || outcome.ExitCode(err) != outcome.ExitUnusable {
				t.Fatalf("err %v, want exit 2 and %q", err, c.want)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Errorf("ExtractTemp left %v behind", ents)
			}
			if _, err := os.Lstat(filepath.Join(filepath.Dir(parent), "evil")); err == nil {
				t.Error("a member was written outside the extraction folder")
			}
		})
	}
}

func TestExtractCancelled(t *testing.T) {
	k := newKey(t)
	file := goodPackage(t, k, filepath.Join(t.TempDir(), "u.tar.gz"))
	p, err := Open(context.Background(), file, Options{Keys: []minisign.PublicKey{k.pub}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	parent := t.TempDir()
	if _, err := p.ExtractTemp(ctx, parent); err == nil || outcome.ExitCode(err) == outcome.ExitUnusable {
		t.Errorf("cancelled extraction: %v, want a cancellation, not bad input", err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("left %v behind", ents)
	}
}
