package txn

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"omflow-upgrade/upgrade/outcome"
)

// legacyTree is an installation for a legacy patch: files, modes, a symbolic link, a
// read-only folder, old mtimes, logs and the state folder.
func legacyTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, map[string]file{
		"server/omflow_server":             {data: "#!/bin/sh\nold\n", mode: 0o755},
		"server/omflow/settings.py":        {data: "DEBUG = False\n", mode: 0o640},
		"server/omflow/syscom/version.bin": {data: "version=1.1.6.1\nversion_num=001001006001\n"},
		"server/static/app.js":             {data: "old js"},
		"python/bin/python3.8":             {data: "ELF", mode: 0o755},
		"README":                           {data: "readme"},
		"logs/omflow.log":                  {data: "log line 1\n"},
	})
	if runtime.GOOS != "windows" {
		if err := os.Symlink("python3.8", filepath.Join(root, "python/bin/python3")); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(filepath.Join(root, "python/bin/python3.8"), filepath.Join(root, "python/bin/python3.8m")); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Type()&os.ModeSymlink == 0 {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	if err := os.Chmod(filepath.Join(root, "server/static"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "server/static"), 0o755) })
	return root
}

// patchSteps are what a legacy patch.sh does: rewrite, add, delete, chmod, relink.
func patchSteps(root string) []func() error {
	j := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	return []func() error{
		func() error { return os.WriteFile(j("server/omflow_server"), []byte("#!/bin/sh\nnew\n"), 0o755) },
		func() error {
			return os.WriteFile(j("server/omflow/syscom/version.bin"), []byte("version=1.2.0.0\n"), 0o644)
		},
		func() error { return os.Chmod(j("server/omflow/settings.py"), 0o600) },
		func() error { return os.MkdirAll(j("server/new/mod"), 0o755) },
		func() error { return os.WriteFile(j("server/new/mod/x.py"), []byte("x"), 0o644) },
		func() error { return os.Remove(j("README")) },
		func() error { return os.RemoveAll(j("python")) },
		func() error { return os.MkdirAll(j("python311/bin"), 0o755) },
		func() error { return os.WriteFile(j("logs/omflow.log"), []byte("log line 1\nlog line 2\n"), 0o644) },
	}
}

func patchInPlace(t *testing.T, root string) {
	t.Helper()
	for _, step := range patchSteps(root) {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
}

// timesOf lists the mtimes of files and links (folders' change as entries move).
func timesOf(t *testing.T, root string) map[string]time.Time {
	out := map[string]time.Time{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if fi, err := os.Lstat(p); err == nil && filepath.Dir(rel) != "logs" {
			out[filepath.ToSlash(rel)] = fi.ModTime()
		}
		return nil
	})
	return out
}

func TestTreeBackupCommitUndo(t *testing.T) {
	root := legacyTree(t)
	state := filepath.Join(root, ".omflow-upgrade")
	before, beforeTimes := snapshot(t, root, "logs"), timesOf(t, root)
	ctx := t.Context()
	var copied int64
	tx, err := Begin(ctx, state, root, Options{Progress: func(d, n int64) { copied = d }})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.PrepareTree(ctx, Plan{From: "1.1.6.1", To: "1.2.0.0"}); err != nil {
		t.Fatal(err)
	}
	if copied == 0 {
		t.Errorf("no copy progress reported")
	}
	patchInPlace(t, root)
	patched := snapshot(t, root, "logs")
	if err := tx.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	dir, err := tx.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Close()
	if d := diffTrees(snapshot(t, root, "logs"), patched); d != "" {
		t.Fatalf("commit changed the patched tree:\n%s", d)
	}
	if d := diffTrees(snapshot(t, filepath.Join(dir, "tree")), before); d != "" {
		t.Fatalf("the full backup differs from the tree before the patch:\n%s", d)
	}
	if l := leftovers(t, state); len(l) > 0 {
		t.Errorf("left in the state folder: %v", l)
	}

	if _, err := undoLast(ctx, state, root, Options{}); err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(snapshot(t, root, "logs"), before); d != "" {
		t.Fatalf("undo did not give back the tree before the patch:\n%s", d)
	}
	for p, tm := range beforeTimes {
		if got := timesOf(t, root)[p]; !got.Equal(tm) {
			t.Errorf("%s: mtime %v, want %v", p, got, tm)
		}
	}
	if runtime.GOOS != "windows" {
		a, _ := os.Stat(filepath.Join(root, "python/bin/python3.8"))
		b, _ := os.Stat(filepath.Join(root, "python/bin/python3.8m"))
		if a == nil || b == nil || !os.SameFile(a, b) {
			t.Errorf("python3.8 and python3.8m are no longer one file (hard links)")
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "logs/omflow.log")); string(b) != "log line 1\nlog line 2\n" {
		t.Errorf("logs/ was restored too: %q", b)
	}
	if l := leftovers(t, state); len(l) > 0 {
		t.Errorf("left in the state folder: %v", l)
	}
	_, err = undoLast(ctx, state, root, Options{})
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "nothing-to-undo" {
		t.Fatalf("second undo: %v", err)
	}
}

func TestTreeRollback(t *testing.T) {
	root := legacyTree(t)
	state := filepath.Join(root, ".omflow-upgrade")
	before := snapshot(t, root, "logs")
	ctx := t.Context()
	tx, err := Begin(ctx, state, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.PrepareTree(ctx, Plan{From: "1.1.6.1", To: "1.2.0.0"}); err != nil {
		t.Fatal(err)
	}
	patchInPlace(t, root)
	cause := errors.New("patch.sh exited with status 1")
	err = tx.Rollback(ctx, cause)
	var failed *outcome.FailedError
	if !errors.As(err, &failed) || !failed.RolledBack {
		t.Fatalf("Rollback: %v", err)
	}
	if d := diffTrees(snapshot(t, root, "logs"), before); d != "" {
		t.Fatalf("rollback did not give back the tree:\n%s", d)
	}
	tx.Close()
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state folder left: %v", leftovers(t, state))
	}
}
