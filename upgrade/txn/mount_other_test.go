//go:build !linux

package txn

import "testing"

func mountTmpfs(t *testing.T, dir string) {
	t.Skip("mounting a file system is done on Linux only")
}
