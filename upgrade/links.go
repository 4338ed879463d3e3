package upgrade

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"

	"omflow-upgrade/upgrade/pkg"
)

// installLinks is the installation's own links, as pkg.CheckLinks asks for them: a
// package is checked against what is on disk, not only against itself. A Windows
// junction counts as a link.
//
// Each path is looked at once per tree: a package's files share a few hundred folders,
// asked about once for every file below them.
func installLinks(root string) pkg.LinkTree {
	type answer struct {
		target string
		isLink bool
		err    error
	}
	var mu sync.Mutex
	seen := map[string]answer{}
	look := func(p string) (string, bool, error) {
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
	return func(p string) (string, bool, error) {
		mu.Lock()
		defer mu.Unlock()
		a, ok := seen[p]
		if !ok {
			a.target, a.isLink, a.err = look(p)
			seen[p] = a
		}
		return a.target, a.isLink, a.err
	}
}
