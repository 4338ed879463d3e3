//go:build windows

package txn

import "os"

func isNotDir(error) bool { return false }

// devOf: a rename across volumes fails at once on Windows, and the state folder is on the
// root's volume; each folder is taken as the root's.
func devOf(os.FileInfo) (uint64, bool) { return 0, false }

// linkKey: hard links are not kept together on Windows (rare in an installation).
func linkKey(os.FileInfo) (key [2]uint64, ok bool) { return key, false }
