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
// (fi), or returns errNoSwap when it could not: the folder then moves file by file.
func (t *Txn) giveFolder(staged, live string, fi fs.FileInfo) error {
	a := ownerOf(fi)
	a.setPerm, a.perm = true, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	label, err := getLabel(live, false)
	if err != nil {
		return errNoSwap
	}
	a.label = label
	sfi, err := os.Lstat(staged)
	if err != nil || t.give(staged, sfi, a) != nil {
		return errNoSwap
	}
	got, err := os.Lstat(staged)
	if err != nil || got.Mode() != fi.Mode() || ownerOf(got).uid != a.uid || ownerOf(got).gid != a.gid {
		return errNoSwap
	}
	if gl, err := getLabel(staged, false); err != nil || !bytes.Equal(gl, label) {
		return errNoSwap
	}
	return nil
}
