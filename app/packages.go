package app

import (
	"path/filepath"
	"strings"

	"omflow-upgrade/upgrade/version"
)

// NewestPackage is the update package of the highest version in dir, named as releases
// are (omflow_update_1_1_6_3.tar.gz or .zip), or "" when there is none.
func NewestPackage(dir string) string {
	var found []string
	for _, pattern := range []string{"omflow_update_*.tar.gz", "omflow_update_*.zip"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		found = append(found, m...)
	}
	best, bestV := "", version.Version{}
	for _, f := range found {
		name := strings.TrimPrefix(filepath.Base(f), "omflow_update_")
		name = strings.TrimSuffix(strings.TrimSuffix(name, ".tar.gz"), ".zip")
		v, err := version.Parse(strings.ReplaceAll(name, "_", "."))
		if err != nil {
			continue
		}
		if best == "" || bestV.Less(v) {
			best, bestV = f, v
		}
	}
	return best
}
