package txn

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"omflow-upgrade/upgrade/outcome"
)

// swapFixture is an installation whose update moves some folders whole (swap.go):
//   - server/a: three files replaced, one deleted, one added; an unchanged file and a
//     __pycache__ folder the update does not touch; the folder's mode is 0750;
//   - server/b: one file replaced beside five unchanged ones (a swap saves nothing);
//   - server/c: four files replaced, but the folder carries a user attribute;
//   - server/e: two files replaced and a subfolder sub with two more (e has ops deeper
//     down, sub moves whole).
func swapFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{root: root, state: filepath.Join(root, ".omflow-upgrade"), old: map[string]file{}, new: map[string]file{}}
	replace := func(p string) {
		f.old[p] = file{data: "old " + p}
		f.new[p] = file{data: "new " + p}
		f.ops = append(f.ops, Op{Kind: Replace, Path: p})
	}
	same := func(p string) {
		f.old[p] = file{data: "same " + p}
		f.new[p] = f.old[p]
	}
	for _, p := range []string{"server/a/x.py", "server/a/y.py", "server/a/z.py", "server/b/x.py",
		"server/c/1.py", "server/c/2.py", "server/c/3.py", "server/c/4.py",
		"server/e/1.py", "server/e/2.py", "server/e/sub/1.py", "server/e/sub/2.py"} {
		replace(p)
	}
	for _, p := range []string{"server/a/keep.py", "server/a/__pycache__/keep.cpython-311.pyc",
		"server/b/1.py", "server/b/2.py", "server/b/3.py", "server/b/4.py", "server/b/5.py"} {
		same(p)
	}
	f.old["server/a/gone.py"] = file{data: "deleted"}
	f.ops = append(f.ops, Op{Kind: Delete, Path: "server/a/gone.py"})
	f.new["server/a/added.py"] = file{data: "added", mode: 0o640}
	f.ops = append(f.ops, Op{Kind: Add, Path: "server/a/added.py"})
	writeTree(t, root, f.old)
	if err := os.Chmod(filepath.Join(root, "server/a"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(root, "server/c"), "user.note", []byte("kept by hand"), 0); err != nil {
		t.Fatalf("this test needs a file system with user attributes (%s): %v", root, err)
	}
	return f
}

// prepared begins a run of f's update and prepares it.
func (f *fixture) prepared(t *testing.T) *Txn {
	t.Helper()
	tx, err := Begin(t.Context(), f.state, f.root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	f.stage(t, tx.StagingDir())
	if err := tx.Prepare(t.Context(), Plan{From: "1", To: "2", Ops: f.ops}); err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestFolderSwaps(t *testing.T) {
	cases := []struct {
		name string
		// after runs once the update's files are in place; it returns what the tree must
		// then be after a rollback, given the old tree.
		after func(t *testing.T, f *fixture, old map[string]entry) map[string]entry
	}{
		{"rolled back", func(t *testing.T, f *fixture, old map[string]entry) map[string]entry { return old }},
		{"the service wrote into a moved folder meanwhile", func(t *testing.T, f *fixture, old map[string]entry) map[string]entry {
			writeTree(t, f.root, map[string]file{"server/a/written-since.log": {data: "a new log"}})
			want := maps.Clone(old)
			want["server/a/written-since.log"] = entry{mode: 0o644, data: "a new log"}
			return want
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := swapFixture(t)
			v1 := snapshot(t, f.root)
			tx := f.prepared(t)
			if want := []string{"server/a", "server/e/sub"}; !slices.Equal(tx.j.Swaps, want) {
				t.Fatalf("folders moved whole: %q, want %q", tx.j.Swaps, want)
			}
			if err := tx.Apply(t.Context()); err != nil {
				t.Fatal(err)
			}
			if d := diffTrees(snapshot(t, f.root), f.wantNew(v1)); d != "" {
				t.Fatalf("tree after Apply:\n%s", d)
			}
			// The backup holds each original at its path, as after a move of its own.
			for _, p := range []string{"server/a/x.py", "server/a/gone.py", "server/e/sub/1.py", "server/b/x.py"} {
				b, err := os.ReadFile(filepath.Join(tx.BackupDir(), "files", p))
				if err != nil || string(b) != f.old[p].data {
					t.Errorf("backup of %s: %q, %v", p, b, err)
				}
			}
			if !tx.CanFinish() {
				t.Error("CanFinish: false after a whole Apply")
			}
			want := c.after(t, f, v1)
			if err := tx.Rollback(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			if d := diffTrees(snapshot(t, f.root), want); d != "" {
				t.Fatalf("tree after Rollback:\n%s", d)
			}
			if err := tx.Close(); err != nil {
				t.Fatal(err)
			}
			if l := leftovers(t, f.state); len(l) > 0 {
				t.Errorf("left in the state folder: %v", l)
			}
		})
	}
}

// A committed update whose folders moved whole is undone, moving them back whole.
func TestFolderSwapsUndone(t *testing.T) {
	f := swapFixture(t)
	v1 := snapshot(t, f.root)
	if _, err := f.applyAll(t, "1", "2", Options{}); err != nil {
		t.Fatal(err)
	}
	v2 := snapshot(t, f.root)
	if d := diffTrees(v2, f.wantNew(v1)); d != "" {
		t.Fatalf("tree after the update:\n%s", d)
	}
	var swaps []string
	opt := Options{Hook: func(point string, i int) {
		if point == "swap-mid" {
			swaps = append(swaps, "moved")
		}
	}}
	if _, err := undoLast(t.Context(), f.state, f.root, opt); err != nil {
		t.Fatal(err)
	}
	if len(swaps) != 2 {
		t.Errorf("the undo moved %d folders whole, want 2", len(swaps))
	}
	if d := diffTrees(snapshot(t, f.root), v1); d != "" {
		t.Fatalf("tree after the undo:\n%s", d)
	}
}

// A folder whose files changed between Prepare and Apply fails the update as a file's own
// move would, and the tree comes back.
func TestFolderSwapFailures(t *testing.T) {
	cases := []struct {
		name string
		// breakIt returns the folder outside the root it links to, or "".
		breakIt func(t *testing.T, f *fixture, tx *Txn) string
	}{
		{"a staged copy gone", func(t *testing.T, f *fixture, tx *Txn) string {
			if err := os.Remove(filepath.Join(tx.StagingDir(), "server/a/y.py")); err != nil {
				t.Fatal(err)
			}
			return ""
		}},
		{"an original gone", func(t *testing.T, f *fixture, tx *Txn) string {
			if err := os.Remove(filepath.Join(f.root, "server/e/sub/2.py")); err != nil {
				t.Fatal(err)
			}
			return ""
		}},
		// The service's account owns server/: it swaps a folder for a link to a copy
		// elsewhere, which holds every file the update expects there.
		{"a link planted at the folder's name", func(t *testing.T, f *fixture, tx *Txn) string {
			elsewhere := filepath.Join(t.TempDir(), "elsewhere")
			if err := os.Rename(filepath.Join(f.root, "server/a"), elsewhere); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, filepath.Join(f.root, "server/a")); err != nil {
				t.Fatal(err)
			}
			return elsewhere
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := swapFixture(t)
			tx := f.prepared(t)
			elsewhere := c.breakIt(t, f, tx)
			want := snapshot(t, f.root)
			var wantElsewhere map[string]entry
			if elsewhere != "" {
				wantElsewhere = snapshot(t, elsewhere)
			}
			err := tx.Apply(t.Context())
			var failed *outcome.FailedError
			if !errors.As(err, &failed) || !failed.RolledBack {
				t.Fatalf("Apply: %v, want a failure rolled back", err)
			}
			t.Logf("the administrator reads: %v", err)
			if d := diffTrees(snapshot(t, f.root), want); d != "" {
				t.Fatalf("tree after the failed Apply:\n%s", d)
			}
			if elsewhere != "" {
				if d := diffTrees(snapshot(t, elsewhere), wantElsewhere); d != "" {
					t.Fatalf("the folder the link leads to changed:\n%s", d)
				}
			}
		})
	}
}
