//go:build !linux

package txn

import (
	"errors"
	"io/fs"
	"os"
)

// folderSwaps: only Linux moves folders whole (swap_linux.go says why).
var folderSwaps = false

func plainFolder(string) bool                            { return false }
func sameDevice(fs.FileInfo, fs.FileInfo) bool           { return false }
func (*Txn) giveFolder(string, string, fs.FileInfo) bool { return false }

func carry(string, string, func(string, bool) (bool, error), func()) error {
	return errors.ErrUnsupported
}

func openFolder(string) (*os.File, error) { return nil, errors.ErrUnsupported }
