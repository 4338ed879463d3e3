package upgrade

import (
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
