package upgrade

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"omflow-upgrade/upgrade/install"
)

// abs is the path of a root-relative, slash-separated path.
func abs(in *install.Installation, rel string) string {
	return filepath.Join(in.Root, filepath.FromSlash(rel))
}

func exists(in *install.Installation, rel string) bool {
	_, err := os.Lstat(abs(in, rel))
	return err == nil
}

func fileSize(in *install.Installation, rel string) (int64, bool) {
	st, err := os.Lstat(abs(in, rel))
	if err != nil {
		return 0, false
	}
	return st.Size(), true
}

// readTree reads every regular file under dir into memory by slash-separated relative
// path; a missing dir is an empty map.
func readTree(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipDir
		}
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out, err
}
