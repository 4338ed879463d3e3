//go:build unix

package txn

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// dirs links and renames files between folders through descriptors of the folders: the
// apply loop moves every file of an update (20,000 for a large one) between a few hundred
// folders while OMFLOW is stopped, and resolving both whole paths of every call cost about
// a fifth of that time (docs/DESIGN.md). The loop goes folder by folder, so a handful of
// descriptors, the most recently used, serve it; each folder is resolved once, as its
// path would have been.
type dirs struct {
	open []dirFD // most recently used first
}

type dirFD struct {
	path string
	fd   int
}

const dirsKept = 4

func newDirs() *dirs { return &dirs{} }

// at is the descriptor of dir, opened when it is not among the kept ones.
func (d *dirs) at(dir string) (int, error) {
	for i, o := range d.open {
		if o.path == dir {
			copy(d.open[1:i+1], d.open[:i])
			d.open[0] = o
			return o.fd, nil
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	if len(d.open) == dirsKept {
		unix.Close(d.open[dirsKept-1].fd)
		d.open = d.open[:dirsKept-1]
	}
	d.open = append([]dirFD{{dir, fd}}, d.open...)
	return fd, nil
}

// pair resolves the folders of from and to.
func (d *dirs) pair(from, to string) (fromFD, toFD int, err error) {
	if fromFD, err = d.at(filepath.Dir(from)); err != nil {
		return
	}
	toFD, err = d.at(filepath.Dir(to))
	return
}

// rename is os.Rename(from, to).
func (d *dirs) rename(from, to string) error {
	f, t, err := d.pair(from, to)
	if err == nil {
		err = unix.Renameat(f, filepath.Base(from), t, filepath.Base(to))
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// link is os.Link(from, to).
func (d *dirs) link(from, to string) error {
	f, t, err := d.pair(from, to)
	if err == nil {
		err = unix.Linkat(f, filepath.Base(from), t, filepath.Base(to), 0)
	}
	if err != nil {
		return &os.LinkError{Op: "link", Old: from, New: to, Err: err}
	}
	return nil
}

func (d *dirs) close() {
	for _, o := range d.open {
		unix.Close(o.fd)
	}
	d.open = nil
}
