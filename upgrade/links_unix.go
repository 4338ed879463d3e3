//go:build unix

package upgrade

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// notPlantedLink refuses p when it is a symbolic link another account made. The update
// reads the site's database and config files and puts copies of them back in place,
// owned like what they replace: read through a link the service account planted
// (db.omflow -> /etc/shadow), a file it cannot read would come back as its own. A link
// of the user running the update (the administrator's) is followed as before.
func notPlantedLink(p string) error {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil // missing or no link: the read says so
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() {
		return nil
	}
	target, _ := os.Readlink(p)
	return fmt.Errorf("%s is a symbolic link (to %s) made by uid %d, not by the user running the update: its copy would give that account what the link names; replace the link by the file itself (or make it yours) and run again", p, target, st.Uid)
}
