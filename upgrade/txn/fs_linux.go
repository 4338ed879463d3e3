//go:build linux

package txn

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// freeSpace is what an unprivileged writer may still use on dir's file system.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %q: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// syncFS makes every rename on dir's file system durable in one call, instead of one
// fsync per directory touched.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %q: %w", dir, err)
	}
	return nil
}

// checkWritable tells whether entries can be renamed into and out of dir: write
// permission, a writable mount, and no immutable or append-only attribute (which stop
// even root).
func checkWritable(dir string) error {
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("folder %q is not writable: %w", dir, err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
			return nil // a file system without attributes
		}
		return nil
	}
	const immutable, appendOnly = 0x10, 0x20
	if flags&(immutable|appendOnly) != 0 {
		return fmt.Errorf("folder %q is not writable: it is marked immutable or append-only (lsattr)", dir)
	}
	return nil
}
