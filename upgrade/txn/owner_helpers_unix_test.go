//go:build unix

package txn

import (
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// otherOwner is an owner the test's installation gets, unlike the run's: www-data when
// the test runs as root (OMFLOW under Apache's mod_wsgi), else the run's own.
func otherOwner(t testing.TB) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid()
	}
	u, err := user.Lookup("www-data")
	if err != nil {
		t.Fatalf("user www-data: %v (Debian has it; create it with useradd -r www-data)", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// chownTree gives every entry under dir (dir included) to uid:gid.
func chownTree(t testing.TB, dir string, uid, gid int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}
