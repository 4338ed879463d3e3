package txn

import (
	"bytes"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// folderSwaps: Linux moves folders whole (swap.go). Elsewhere every file moves alone:
// Windows refuses to rename a folder while any file in it is open, and other Unixes are
// not tested.
var folderSwaps = true

// plainFolder tells whether dir carries no extended attribute but its security label:
// an access list or a user attribute would not come with the staged folder.
func plainFolder(dir string) bool {
	buf := make([]byte, 1024)
	n, err := unix.Llistxattr(dir, buf)
	if err != nil {
		return noLabels(err) // a file system without extended attributes
	}
	for _, name := range bytes.Split(buf[:n], []byte{0}) {
		if len(name) > 0 && string(name) != labelXattr {
			return false
		}
	}
	return true
}

func sameDevice(a, b fs.FileInfo) bool {
	da, oka := devOf(a)
	db, okb := devOf(b)
	return oka && okb && da == db
}

// giveFolder gives the staged folder the owner, group, mode and label of the live one
// (fi); false when it could not: the folder then moves file by file.
func (t *Txn) giveFolder(staged, live string, fi fs.FileInfo) bool {
	a := ownerOf(fi)
	a.setPerm, a.perm = true, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	label, err := getLabel(live, false)
	if err != nil {
		return false
	}
	a.label = label
	sfi, err := os.Lstat(staged)
	if err != nil || t.give(staged, sfi, a) != nil {
		return false
	}
	got, err := os.Lstat(staged)
	if err != nil || got.Mode() != fi.Mode() || ownerOf(got).uid != a.uid || ownerOf(got).gid != a.gid {
		return false
	}
	if gl, err := getLabel(staged, false); err != nil || !bytes.Equal(gl, label) {
		return false
	}
	return true
}

// carry moves entries from the folder from into the folder to, each under its own name:
// pick says, for each entry of from (inTo: to has one of that name), whether it moves;
// hook runs before each move. Both folders are opened once, never through a link planted
// at their names, and every entry is listed and moved relative to them: the service's
// account, which may own the folders' parent, cannot turn a folder the run lists into
// someone else's between the listing and the renames. An error stops at that entry; what
// moved stays moved, so a rollback can repeat the call.
func carry(from, to string, pick func(name string, inTo bool) (bool, error), hook func()) error {
	src, err := openFolder(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openFolder(to)
	if err != nil {
		return err
	}
	defer dst.Close()
	ents, err := src.ReadDir(-1)
	if err != nil {
		return err
	}
	inTo, err := dst.Readdirnames(-1)
	if err != nil {
		return err
	}
	there := make(map[string]bool, len(inTo))
	for _, name := range inTo {
		there[name] = true
	}
	for _, e := range ents {
		move, err := pick(e.Name(), there[e.Name()])
		if err != nil {
			return err
		}
		if !move {
			continue
		}
		hook()
		if err := unix.Renameat(int(src.Fd()), e.Name(), int(dst.Fd()), e.Name()); err != nil {
			return &os.LinkError{Op: "rename", Old: from + "/" + e.Name(), New: to + "/" + e.Name(), Err: err}
		}
	}
	return nil
}

// openFolder opens the folder dir itself: a link at its name is refused.
func openFolder(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return os.NewFile(uintptr(fd), dir), nil
}
