//go:build linux

package txn

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/outcome"
)

// A full backup restores by renaming top-level entries: a mount point among them must
// be refused before anything is copied.
func TestTreeRefusesMountPoint(t *testing.T) {
	root := legacyTree(t)
	mnt := filepath.Join(root, "data")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("none", mnt, "tmpfs", 0, "size=1m"); err != nil {
		testneed.Missing(t, "a tmpfs mount (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	state := filepath.Join(root, ".omflow-upgrade")
	before := snapshot(t, root, "logs")
	tx, err := Begin(t.Context(), state, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	err = tx.PrepareTree(t.Context(), Plan{})
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "cross-device" {
		t.Fatalf("PrepareTree with a mount point: %v, want refused cross-device", err)
	}
	tx.Close()
	if d := diffTrees(snapshot(t, root, "logs"), before); d != "" {
		t.Fatalf("a refusal changed the tree:\n%s", d)
	}
	if l := leftovers(t, state); len(l) > 0 {
		t.Errorf("left in the state folder: %v", l)
	}
}

// mountTmpfs mounts a small tmpfs, another file system, at dir (made here).
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("none", dir, "tmpfs", 0, "size=1m"); err != nil {
		testneed.Missing(t, "a tmpfs mount (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

// The files a rollback put aside count as free space for the next run, which removes
// them before anything else when it needs their room: on a 4 MB file system with 2 MB of
// them (2 MB free), a run that needs 2.5 MB (and the 1 MB journal margin) begins with the
// folder gone.
func TestDiscardedFilesCountAsFreeSpace(t *testing.T) {
	root := filepath.Join(t.TempDir(), "omflow")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("none", root, "tmpfs", 0, "size=4m"); err != nil {
		testneed.Missing(t, "a tmpfs mount (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(root, unix.MNT_DETACH) })
	state := filepath.Join(root, ".omflow-upgrade")
	aside := filepath.Join(state, discardedPrefix+"20261204-000000.000000")
	if err := os.MkdirAll(filepath.Join(aside, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(aside, "files", "big"), make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	tx, err := Begin(t.Context(), state, root, Options{Command: "apply", NeedBytes: 5 << 19})
	if err != nil {
		t.Fatalf("Begin with 2 MB put aside by a rollback: %v", err)
	}
	if _, err := os.Stat(aside); !os.IsNotExist(err) {
		t.Errorf("the run needs the room of the folder put aside, and it is still there once the run began: %v", err)
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(aside); !os.IsNotExist(err) {
		t.Fatalf("the folder a rollback put aside is still there after the run: %v", err)
	}
}
