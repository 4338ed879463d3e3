//go:build !linux

package pkg

import "os"

// create makes the new file name in the cursor's folder.
func (c *folderCursor) create(name string) (memberFile, error) {
	return c.sub.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}
