//go:build !linux && !windows

package txn

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// freeSpace: unknown on this platform (-1 skips the check).
func freeSpace(string) (int64, error) { return -1, nil }

func syncFS(string) error {
	unix.Sync()
	return nil
}

func checkWritable(dir string) error {
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("folder %q is not writable: %w", dir, err)
	}
	return nil
}
