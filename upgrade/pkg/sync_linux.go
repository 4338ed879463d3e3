package pkg

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncTree makes what was written below dir durable: one syncfs of its file system
// costs far less than an fsync per file when a package holds thousands of files.
func syncTree(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
