package rmtree

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Not t.TempDir: its own cleanup is what fails under Wine.
func TestRemoveAllNestedTree(t *testing.T) {
	dir, err := os.MkdirTemp("", "omflow-rmtree-test-")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a/b/c/file.txt", "a/b/other.txt", "a/empty/", "top.txt"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) != "empty" {
			if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s is still there: %v", dir, err)
	}
	if err := RemoveAll(dir); err != nil {
		t.Fatalf("removing what is gone: %v", err)
	}
}
