//go:build windows

package txn

import "testing"

func makeReadOnly(t *testing.T, dir string) func() {
	t.Skip("read-only folders are ACLs on Windows")
	return nil
}
