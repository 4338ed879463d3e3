package txn

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// stamps lists every path under dir (state folder included) with its mtime and size,
// and the folder's own mtime: any file created, removed or written shows.
func stamps(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := os.Lstat(p)
		if err == nil {
			out[p] = fmt.Sprintf("%v %d %v", fi.ModTime().UnixNano(), fi.Size(), fi.Mode())
		}
		return nil
	})
	return out
}

func TestReadOnlyCalls(t *testing.T) {
	f := newFixture(t, 12)
	readAll := func(t *testing.T) (held bool, pending bool, backups int) {
		_, held, err := LockInfo(f.state)
		if err != nil {
			t.Fatal(err)
		}
		j, err := Pending(f.state)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := Backups(f.state)
		if err != nil {
			t.Fatal(err)
		}
		return held, j != nil, len(bs)
	}
	check := func(t *testing.T, wantHeld, wantPending bool, wantBackups int) {
		t.Helper()
		before := stamps(t, f.root)
		held, pending, n := readAll(t)
		after := stamps(t, f.root)
		if held != wantHeld || pending != wantPending || n != wantBackups {
			t.Errorf("held %v pending %v backups %d, want %v %v %d", held, pending, n, wantHeld, wantPending, wantBackups)
		}
		for p, s := range before {
			if after[p] != s {
				t.Errorf("%s changed: %q -> %q", p, s, after[p])
			}
		}
		for p := range after {
			if _, ok := before[p]; !ok {
				t.Errorf("%s appeared", p)
			}
		}
	}

	t.Run("fresh installation", func(t *testing.T) { check(t, false, false, 0) })
	if _, err := os.Stat(f.state); !os.IsNotExist(err) {
		t.Fatalf("read-only calls created the state folder")
	}

	// A run in progress (its journal written, its lock held).
	tx := f.applied(t, Options{})
	t.Run("run in progress", func(t *testing.T) { check(t, true, true, 0) })
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	t.Run("after a commit", func(t *testing.T) { check(t, false, false, 1) })
}
