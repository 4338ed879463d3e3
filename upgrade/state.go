package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/inuse"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/reboot"
	"omflow-upgrade/upgrade/txn"
)

// fillState adds the transaction state (interrupted run, backups, lock) to a status
// report, read-only.
func fillState(in *install.Installation, r *StatusReport) error {
	j, err := txn.Pending(in.StateDir())
	if err != nil {
		return err
	}
	if j != nil {
		r.Pending = &Pending{ID: j.ID, From: j.From, To: j.To, Phase: j.Phase, Started: j.Started}
		r.Fenced = decodeData(j).Fenced
	}
	if _, err := os.Stat(filepath.Join(in.StateDir(), fenceFileName)); err == nil {
		r.Fenced = true
	}
	backups, err := txn.Backups(in.StateDir())
	if err != nil {
		return err
	}
	for _, b := range backups {
		if b.Undone {
			continue
		}
		r.Backups = append(r.Backups, Backup{ID: b.ID, From: b.From, To: b.To, Time: b.Started, Path: b.Dir})
	}
	if h, held, err := txn.LockInfo(in.StateDir()); err == nil && held {
		r.Lock = h.String()
	}
	return nil
}

// checkState adds the checks of the installation's own state: an interrupted run, a
// lock held by another run, free disk space.
func checkState(in *install.Installation, need spaceNeeded, r *CheckReport) {
	j, err := txn.Pending(in.StateDir())
	switch {
	case err != nil:
		r.refuse(CheckItem{Name: CheckPending, Reason: ReasonInterruptedRun, Message: err.Error()})
	case j != nil:
		r.refuse(CheckItem{Name: CheckPending, Reason: ReasonInterruptedRun,
			Message: fmt.Sprintf("an interrupted run (%s -> %s, stopped at %s) waits: run omflow-upgrade recover -root %s (apply does it first by itself)", j.From, j.To, j.Phase, in.Root)})
	default:
		r.add(CheckItem{Name: CheckPending, OK: true, Message: "no interrupted run"})
	}
	if h, held, err := txn.LockInfo(in.StateDir()); err == nil && held {
		r.refuse(CheckItem{Name: CheckLock, Reason: ReasonLockHeld, Holder: h.String(),
			Message: fmt.Sprintf("another upgrade run holds the installation: %s", h)})
	} else {
		r.add(CheckItem{Name: CheckLock, OK: true, Message: "no other upgrade run"})
	}
	if err := reboot.Check(reboot.System()); err != nil {
		// Windows: an update applied now could be undone by the renames queued for the
		// next boot.
		r.refuse(CheckItem{Name: CheckReboot, Reason: reasonOf(err, ReasonRebootPending), Message: err.Error()})
	}
	if err := txn.CheckSpace(in.Root, need.total()); err != nil {
		var refused *outcome.RefusedError
		reason := ReasonDiskSpace
		if errors.As(err, &refused) {
			reason = refused.Reason
		}
		r.refuse(CheckItem{Name: CheckDiskSpace, Reason: reason, Bytes: need.total(), Message: fmt.Sprintf("%v (the update needs %s)", err, need)})
	} else {
		r.add(CheckItem{Name: CheckDiskSpace, OK: true, Bytes: need.total(), Message: "room for the update: " + need.String()})
	}
}

// checkInUse lists the files of the payload another process holds open (Windows; on
// Linux an open file can always be renamed). It warns: OMFLOW's own services hold theirs
// until the update stops them, and apply refuses if a file is still held then.
func checkInUse(ctx context.Context, in *install.Installation, p *pkg.Package, r *CheckReport) {
	if p.Manifest == nil {
		return
	}
	// Every path, without looking whether it exists first: a finder takes a missing file
	// as held by nobody, and on Linux it looks at none of them.
	var files []string
	for _, f := range p.Manifest.Files {
		files = append(files, abs(in, f.Path))
	}
	for _, d := range p.Manifest.Delete {
		files = append(files, abs(in, d))
	}
	hs, err := inuse.System().Holders(ctx, files)
	if err != nil || len(hs) == 0 {
		return
	}
	r.add(CheckItem{Name: CheckInUse, OK: true, Warning: true, Reason: ReasonFileInUse,
		Message: inuse.Describe(hs) + "; the update stops OMFLOW's services first and refuses if a file is still held then"})
}
