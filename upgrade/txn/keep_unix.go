//go:build unix

package txn

import "os"

// keepOriginal saves the file a Replace is about to overwrite. A hard link keeps the
// original under the backup name while the target still holds it, so the rename of the
// new file over the target that follows is atomic: no reader (Apache loading a module,
// say) ever finds the path missing. Where links are refused (some file systems), the
// original is renamed away as for a Delete. Either way the state stays readable from
// the file system: backup present means the original must go back (renaming a link
// over its twin is a no-op that rename reports as success).
func keepOriginal(d *dirs, target, backup string) error {
	if err := d.link(target, backup); err == nil {
		return nil
	} else if _, serr := os.Lstat(backup); serr == nil {
		return err
	}
	return d.rename(target, backup)
}
