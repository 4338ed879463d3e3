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
