//go:build linux

package txn

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// labelXattr is the extended attribute that holds a file's security label. A test
// names a user.* attribute instead, which any file system with extended attributes
// keeps without SELinux.
var labelXattr = "security.selinux"

// getLabel reads p's label, following a symbolic link only when follow is set; nil when
// p has none or its file system keeps none.
func getLabel(p string, follow bool) ([]byte, error) {
	get := unix.Lgetxattr
	if follow {
		get = unix.Getxattr
	}
	buf := make([]byte, 256)
	for {
		n, err := get(p, labelXattr, buf)
		switch {
		case err == nil:
			return buf[:n:n], nil
		case noLabels(err):
			return nil, nil
		case errors.Is(err, unix.ERANGE):
			if n, err = get(p, labelXattr, nil); err != nil {
				return nil, fmt.Errorf("read the label of %q: %w", p, err)
			}
			buf = make([]byte, n+1)
		default:
			return nil, fmt.Errorf("read the label of %q: %w", p, err)
		}
	}
}

// setLabel sets p's label (a link's own, not its target's).
func setLabel(p string, label []byte) error {
	return unix.Lsetxattr(p, labelXattr, label, 0)
}

// noLabels tells an error that means "no label here": none set, or a file system (or
// a file type, for user.* attributes) without them.
func noLabels(err error) bool {
	return errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP)
}
