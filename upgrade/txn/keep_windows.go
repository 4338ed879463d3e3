//go:build windows

package txn

// keepOriginal saves the file a Replace is about to overwrite by renaming it away:
// Windows lets a running program's file be renamed, not replaced, so the new file then
// takes a free name.
func keepOriginal(d *dirs, target, backup string) error { return d.rename(target, backup) }
