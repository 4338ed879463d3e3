// Package inuse finds the files of an update that another process holds open so that
// they cannot be renamed, and names that process. The transaction replaces files by
// renaming them (a running program or library may be renamed on Windows); a file opened
// without FILE_SHARE_DELETE (a log, a database, an editor's open file) blocks that, so
// check lists such files and apply names the holder when a rename fails.
package inuse

import (
	"context"
	"fmt"
	"strings"

	"omflow-upgrade/upgrade/outcome"
)

// Holder is a file and the process that holds it. PID is 0 and Process empty when the
// system could not tell who holds it (the Restart Manager knows nothing of it, or under
// Wine, whose Restart Manager is a stub).
type Holder struct {
	File    string
	PID     uint32
	Process string // the program's name as the system shows it ("OMFLOWServer.exe", "Notepad")
	Service string // the service's short name, when the holder is a service
}

func (h Holder) String() string {
	switch {
	case h.PID == 0:
		return fmt.Sprintf("%s (held open by a process the system does not name)", h.File)
	case h.Service != "":
		return fmt.Sprintf("%s (held by service %s, %s, pid %d)", h.File, h.Service, h.Process, h.PID)
	}
	return fmt.Sprintf("%s (held by %s, pid %d)", h.File, h.Process, h.PID)
}

// Finder finds, among files, those another process holds so that they cannot be renamed
// or deleted, with their holders (one entry per file and process). Files that do not
// exist are held by nobody.
type Finder interface {
	Holders(ctx context.Context, files []string) ([]Holder, error)
}

// System is this machine's Finder: the Restart Manager on Windows; on Linux, where an
// open file can always be renamed, it finds none.
func System() Finder { return systemFinder{} }

// Check refuses (reason "file-in-use") when another process holds any of files, naming
// each file and its holder.
func Check(ctx context.Context, f Finder, files []string) error {
	hs, err := f.Holders(ctx, files)
	if err != nil {
		return fmt.Errorf("find the files other programs hold open: %w", err)
	}
	if len(hs) == 0 {
		return nil
	}
	return &outcome.RefusedError{Reason: outcome.ReasonFileInUse, Err: fmt.Errorf(
		"%s: close the program (or stop the service) that holds it, then try again", Describe(hs))}
}

// Describe lists holders for an error message: at most five, then how many more.
func Describe(hs []Holder) string {
	const show = 5
	var b strings.Builder
	if len(hs) == 1 {
		b.WriteString("a file is in use: ")
	} else {
		fmt.Fprintf(&b, "%d files are in use: ", len(hs))
	}
	for i, h := range hs {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(hs)-show)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(h.String())
	}
	return b.String()
}
