package upgrade

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/txn"
)

// spaceNeeded is what an update writes next to the installation before it can rename
// anything, figure by figure, so that the disk check can say where the room goes.
type spaceNeeded struct {
	payload int64 // the package's files, staged
	// database is the SQLite database's size: copied into the backup's place, and once
	// more (with the new release's project) to try the update on while OMFLOW runs.
	database int64
	project  int64 // the Django project, copied for that trial
	python   int64 // a new Python environment, about the size of the one it replaces
	backup   int64 // a legacy patch's full copy of the installation; else links, 0
}

func (s spaceNeeded) total() int64 {
	return s.payload + 2*s.database + s.project + s.python + s.backup
}

func (s spaceNeeded) String() string {
	parts := []string{"payload " + HumanBytes(s.payload)}
	if s.database > 0 {
		parts = append(parts, "database copies 2 × "+HumanBytes(s.database), "project copy "+HumanBytes(s.project))
	}
	if s.python > 0 {
		parts = append(parts, "new Python environment about "+HumanBytes(s.python))
	}
	if s.backup > 0 {
		parts = append(parts, "backup (a full copy) "+HumanBytes(s.backup))
	} else {
		parts = append(parts, "backup 0 B (the originals are kept by link or rename)")
	}
	return fmt.Sprintf("%s in all: %s", HumanBytes(s.total()), strings.Join(parts, ", "))
}

// neededSpace adds up what the update of in by p writes before its renames.
func neededSpace(ctx context.Context, in *install.Installation, p *pkg.Package, logf func(string, ...any)) spaceNeeded {
	var s spaceNeeded
	if p.Legacy != nil {
		s.backup = txn.TreeBytes(in.Root, in.StateDir())
		return s
	}
	if p.Manifest == nil {
		return s
	}
	s.payload = p.Manifest.PayloadSize()
	if db, err := readDatabase(in); err == nil && db.sqlite() && db.path != "" {
		if size, ok := fileSize(in, db.path); ok {
			s.database = size
			if p.Manifest.Schema != "" || p.Manifest.TouchesMigrations() {
				s.project = txn.TreeBytes(in.ProjectDir(), "")
			}
		}
	}
	if needsPythonMove(ctx, in, p.Manifest, logf) != nil {
		s.python = txn.TreeBytes(in.PythonDir(), "")
		if in.Layout == install.Windows {
			// Python311\ is installed already: what it gets is the old packages again.
			s.python = txn.TreeBytes(filepath.Join(in.PythonDir(), "Lib", "site-packages"), "")
		}
	}
	return s
}
