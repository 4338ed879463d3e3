package txn

import "os"

// dirs renames by path on Windows, where keepOriginal renames too (dirs_unix.go says
// why Unix goes through descriptors of the folders).
type dirs struct{}

func newDirs() *dirs                       { return &dirs{} }
func (*dirs) rename(from, to string) error { return os.Rename(from, to) }
func (*dirs) close()                       {}
