//go:build windows

package txn

import "os"

// keepOriginal saves the file a Replace is about to overwrite by renaming it away:
// Windows lets a running program's file be renamed, not replaced, so the new file then
// takes a free name.
func keepOriginal(target, backup string) error { return os.Rename(target, backup) }
