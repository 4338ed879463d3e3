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
