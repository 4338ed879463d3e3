//go:build unix

package pyenv

import (
	"io/fs"
	"os"
	"syscall"
)

// chownLike gives f the owner and group of fi, as far as we may; a file we cannot chown
// keeps ours.
func chownLike(f *os.File, fi fs.FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(st.Uid), int(st.Gid))
	}
}
