//go:build !linux

package txn

import (
	"io/fs"
	"os"
)

// folderSwaps: only Linux moves folders whole (swap_linux.go says why).
var folderSwaps = false

func plainFolder(string) bool                             { return false }
func sameDevice(fs.FileInfo, fs.FileInfo) bool            { return false }
func (*Txn) giveFolder(string, string, fs.FileInfo) error { return errNoSwap }

func carry(string, string, func(string, bool) (bool, error), func()) error {
	return errNoSwap
}

func openFolder(string) (*os.File, error) { return nil, errNoSwap }
