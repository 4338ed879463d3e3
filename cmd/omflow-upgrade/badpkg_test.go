package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewrite copies a package archive member by member through change, which may alter a
// header or content, drop the member (return false), or add members after it.
func rewrite(t *testing.T, src, dst string, change func(h *tar.Header, body []byte, tw *tar.Writer) ([]byte, bool)) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		nb, keep := change(h, body, tw)
		if !keep {
			continue
		}
		h.Size = int64(len(nb))
		tw.WriteHeader(h)
		tw.Write(nb)
	}
	tw.Close()
	zw.Close()
	os.WriteFile(dst, out.Bytes(), 0o644)
}

func TestBadPackagesAreRefusedWithNothingChanged(t *testing.T) {
	f := newFixture(t, "1.1.6.1")
	bad := func(name string, change func(h *tar.Header, body []byte, tw *tar.Writer) ([]byte, bool)) string {
		p := filepath.Join(f.dir, name+".tar.gz")
		rewrite(t, f.pkg, p, change)
		return p
	}
	tests := []struct {
		name, pkg, reason string
	}{
		{"tampered payload", bad("tampered-payload", func(h *tar.Header, b []byte, _ *tar.Writer) ([]byte, bool) {
			if strings.HasPrefix(h.Name, "payload/") {
				return []byte("# evil\n"), true
			}
			return b, true
		}), "payload"},
		{"tampered manifest", bad("tampered-manifest", func(h *tar.Header, b []byte, _ *tar.Writer) ([]byte, bool) {
			if h.Name == "manifest.json" {
				return bytes.Replace(b, []byte("1.1.6.3"), []byte("1.1.6.4"), 1), true
			}
			return b, true
		}), "signature"},
		{"traversal", bad("traversal", func(h *tar.Header, b []byte, tw *tar.Writer) ([]byte, bool) {
			if h.Name == "manifest.json.minisig" {
				tw.WriteHeader(&tar.Header{Name: "payload/../../../etc/cron.d/evil", Mode: 0o644, Size: 4, Typeflag: tar.TypeReg})
				tw.Write([]byte("evil"))
			}
			return b, true
		}), ".."},
		{"symlink out", bad("symlink", func(h *tar.Header, b []byte, tw *tar.Writer) ([]byte, bool) {
			if h.Name == "manifest.json.minisig" {
				tw.WriteHeader(&tar.Header{Name: "payload/server/evil", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink})
			}
			return b, true
		}), "evil"},
		{"missing signature", bad("unsigned", func(h *tar.Header, b []byte, _ *tar.Writer) ([]byte, bool) {
			return b, h.Name != "manifest.json.minisig"
		}), "sign"},
	}
	truncated := filepath.Join(f.dir, "truncated.tar.gz")
	b, _ := os.ReadFile(f.pkg)
	os.WriteFile(truncated, b[:len(b)/2], 0o644)
	tests = append(tests, struct{ name, pkg, reason string }{"truncated", truncated, "truncated.tar.gz"})

	before := tree(t, f.root)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"check", "-root", f.root, "-pubkey", f.pub, tt.pkg},
				{"apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", tt.pkg},
			} {
				r := cmd(t, args...)
				if r.code != 2 {
					t.Fatalf("%s: exit %d, want 2\n%s%s", args[0], r.code, r.stdout, r.stderr)
				}
				if !strings.Contains(r.stderr, filepath.Base(tt.pkg)) || !strings.Contains(strings.ToLower(r.stderr), strings.ToLower(tt.reason)) {
					t.Fatalf("%s: the message must name the package and the reason (%q):\n%s", args[0], tt.reason, r.stderr)
				}
			}
		})
	}
	sameTree(t, before, tree(t, f.root))
	if st := cmd(t, "status", "-root", f.root, "-json").json(t); st["service"] != "running" || st["version"] != "1.1.6.1" {
		t.Fatalf("status after the refusals: %v", st)
	}
}
