// Package rmtree removes folder trees where os.RemoveAll cannot. Under Wine 8, Go's
// os.RemoveAll fails on every non-empty folder ("unlinkat ...: Invalid function": Wine
// rejects the POSIX-style delete Go asks for, with a status Go does not take for
// "unsupported", so Go never falls back); the Windows tests run there. On Windows itself
// and on Linux the fallback is never needed.
package rmtree

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// RemoveAll is os.RemoveAll; on Windows, when that fails, it removes entry by entry,
// deepest first, with os.Remove (DeleteFile, RemoveDirectory).
func RemoveAll(path string) error {
	err := os.RemoveAll(path)
	if err == nil || runtime.GOOS != "windows" {
		return err
	}
	var paths []string
	filepath.WalkDir(path, func(p string, _ fs.DirEntry, werr error) error {
		if werr == nil {
			paths = append(paths, p)
		}
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		if rerr := os.Remove(paths[i]); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return errors.Join(err, rerr)
		}
	}
	return nil
}
