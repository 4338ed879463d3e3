//go:build unix

package runlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// logDir is a log folder opened without following a link: the service account may
// write in logs/ (and anyone in the temporary folder), so every name below it is looked
// at relative to the folder opened, never through a path that a planted link could
// redirect.
type logDir struct {
	path string
	fd   int
}

// openLogDir opens (creating when missing) the folder path. Its parent is followed as
// given (the installation's root, or the system's temporary folder: chosen by the
// administrator); path itself is refused when it is a link.
func openLogDir(path string) (*logDir, error) {
	path = filepath.Clean(path) // $TMPDIR may end in a slash
	parent, base := filepath.Dir(path), filepath.Base(path)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	pfd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: parent, Err: err}
	}
	defer unix.Close(pfd)
	if err := unix.Mkdirat(pfd, base, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, &os.PathError{Op: "mkdir", Path: path, Err: err}
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return nil, fmt.Errorf("log folder %q is a link or not a folder: not used", path)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &logDir{path: path, fd: fd}, nil
}

func (d *logDir) close() { unix.Close(d.fd) }

// create makes a new file name in the folder: never an existing name, never through a
// link (O_EXCL|O_NOFOLLOW). os.ErrExist when the name is taken.
func (d *logDir) create(name string) (*os.File, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: filepath.Join(d.path, name), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(d.path, name)), nil
}

// names lists the folder's entries.
func (d *logDir) names() ([]string, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.path, Err: err}
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	return f.Readdirnames(-1)
}

// removeFile removes name when it is a regular file of the folder (a link is left).
func (d *logDir) removeFile(name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%q is not a regular file", name)
	}
	return unix.Unlinkat(d.fd, name, 0)
}
