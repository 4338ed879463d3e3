package txn

import "os"

// dirs links and renames by path on Windows (dirs_unix.go says why Unix does otherwise).
type dirs struct{}

func newDirs() *dirs                       { return &dirs{} }
func (*dirs) rename(from, to string) error { return os.Rename(from, to) }
func (*dirs) link(from, to string) error   { return os.Link(from, to) }
func (*dirs) close()                       {}
