package upgrade

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"omflow-upgrade/upgrade/pkg"
)

// installLinks is the installation's own links, as pkg.CheckLinks asks for them: a
// package is checked against what is on disk, not only against itself. A Windows
// junction counts as a link.
func installLinks(root string) pkg.LinkTree {
	return func(p string) (string, bool, error) {
		full := filepath.Join(root, filepath.FromSlash(p))
		fi, err := os.Lstat(full)
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			return "", false, nil
		case err != nil:
			return "", false, err
		case fi.Mode()&fs.ModeSymlink == 0 && (runtime.GOOS != "windows" || fi.Mode()&fs.ModeIrregular == 0):
			return "", false, nil
		}
		target, err := os.Readlink(full)
		if err != nil {
			return "", true, nil // a reparse point of another kind: a link whose target is unknown (absolute)
		}
		return target, true, nil
	}
}
