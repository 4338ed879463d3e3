//go:build windows

package txn

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

func freeSpace(dir string) (int64, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, err
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return 0, fmt.Errorf("free space of %q: %w", dir, err)
	}
	return int64(avail), nil
}

// syncFS: NTFS journals its metadata, so renames survive a power cut once done.
func syncFS(string) error { return nil }

// checkWritable catches the read-only attribute; ACLs show up at the first rename, which
// then rolls back.
func checkWritable(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("folder %q is read-only", dir)
	}
	return nil
}
