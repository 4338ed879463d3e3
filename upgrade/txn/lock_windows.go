//go:build windows

package txn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// The lock covers one byte far beyond the holder's text, so others can still read who
// holds it (Windows locks block reads of the locked range).
const lockOffsetHigh = 0x40000000

func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

// checkStateDir accepts a state folder that is a folder, not a reparse point (symbolic
// link, junction). Its ACL is inherited from the installation's root, as the files'.
func checkStateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() || fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return fmt.Errorf("state folder %q is a link or not a folder: remove it and run again", dir)
	}
	return nil
}

func lockRange(f *os.File, flags uint32) error {
	ol := new(windows.Overlapped)
	ol.OffsetHigh = lockOffsetHigh
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, ol)
}

func unlockRange(f *os.File) error {
	ol := new(windows.Overlapped)
	ol.OffsetHigh = lockOffsetHigh
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}

func tryLock(f *os.File) (bool, error) {
	err := lockRange(f, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

func probeLock(f *os.File) (bool, error) {
	err := lockRange(f, windows.LOCKFILE_FAIL_IMMEDIATELY)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, unlockRange(f)
}

// sameFile: the lock file is never removed on Windows (an open file cannot be), so the
// file at the path is always the one locked.
func sameFile(*os.File, string) bool { return true }

func removeLockFile(_ string, f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	return unlockRange(f)
}
