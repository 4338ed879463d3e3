//go:build !unix

package pyenv

import (
	"io/fs"
	"os"
)

// chownLike does nothing where files have no Unix owner.
func chownLike(*os.File, fs.FileInfo) {}
