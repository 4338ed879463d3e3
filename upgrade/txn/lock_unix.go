//go:build unix

package txn

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
}

// checkStateDir accepts a state folder that is a folder (not a link) of the user running
// the update, writable by no one else.
func checkStateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("state folder %q is a %s, not a folder: remove it and run again", dir, kindOf(fi))
	case ok && int(st.Uid) != os.Geteuid():
		return fmt.Errorf("state folder %q belongs to uid %d, not to the user running the update (uid %d), so that account could plant links in it: check it, then chown -R %d %q", dir, st.Uid, os.Geteuid(), os.Geteuid(), dir)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("state folder %q is writable by other accounts (mode %v): chmod go-w %q", dir, fi.Mode().Perm(), dir)
	}
	return nil
}

func tryLock(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// probeLock reports whether someone holds f's lock, taking a shared lock for an instant.
// It changes nothing on disk.
func probeLock(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, unix.Flock(int(f.Fd()), unix.LOCK_UN)
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if err != nil {
		return false
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func removeLockFile(path string, _ *os.File) error {
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
