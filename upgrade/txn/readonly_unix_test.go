//go:build unix

package txn

import (
	"os"
	"os/exec"
	"testing"

	"omflow-upgrade/internal/testneed"
)

// makeReadOnly makes dir refuse renames into and out of it. Root ignores permission
// bits, so as root the folder is made immutable instead.
func makeReadOnly(t *testing.T, dir string) (undo func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		undo = func() { os.Chmod(dir, 0o755) }
		t.Cleanup(undo)
		return undo
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		testneed.Missing(t, "chattr (e2fsprogs), to make a folder read-only as root")
	}
	if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
		testneed.Missing(t, "chattr +i %s: %v: %s (a file system with attributes)", dir, err, out)
	}
	// After the test's own checks, so the snapshot compare runs on the real thing, and
	// before TempDir's removal (cleanups run last-in first-out).
	undo = func() { exec.Command(chattr, "-i", dir).Run() }
	t.Cleanup(undo)
	return undo
}

// otherFS gives a folder on another file system than dir (/dev/shm is a tmpfs on Linux).
func otherFS(t *testing.T, dir string) string {
	t.Helper()
	a, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/dev/shm"); err != nil {
		testneed.Missing(t, "/dev/shm")
	}
	other, err := os.MkdirTemp("/dev/shm", "txn-test-")
	if err != nil {
		testneed.Missing(t, "a writable /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	b, _ := os.Stat(other)
	if da, _ := devOf(a); func() bool { db, _ := devOf(b); return da == db }() {
		testneed.Missing(t, "/dev/shm on another file system than the test's folder")
	}
	return other
}
