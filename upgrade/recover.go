package upgrade

import (
	"context"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/txn"
)

// Recover ends a run that was interrupted (power cut, kill -9): a run whose files were all
// in place and whose new version had passed its health check, or passes it now, is
// finished; anything else is rolled back to the exact previous tree. Then the service
// runs.
func (s *Session) Recover(ctx context.Context) (*RunReport, error) {
	defer s.follow()()
	opt, in := s.opt, s.begin()
	defer s.settle(in)
	return recoverRun(ctx, &opt, in)
}

// recoverFirst recovers an interrupted run before another operation starts, as the next
// start of the program must (SPEC 4.4).
func recoverFirst(ctx context.Context, opt *Options, in *install.Installation) error {
	j, err := txn.Pending(in.StateDir())
	if err != nil || j == nil {
		return err
	}
	opt.logf("an interrupted run %s (%s -> %s, phase %s) is recovered first", j.ID, j.From, j.To, j.Phase)
	if _, err := recoverRun(ctx, opt, in); err != nil {
		return err
	}
	return in.ReadVersion()
}

func recoverRun(ctx context.Context, opt *Options, in *install.Installation) (*RunReport, error) {
	rep := &RunReport{Action: "none", Version: in.Version.String()}
	t, err := txn.Resume(ctx, in.StateDir(), in.Root, txn.Options{Command: "recover", Keep: in.KeepBackups(), Logf: opt.logf, Hook: opt.Hook})
	if err != nil || t == nil {
		rep.OK = err == nil
		return rep, err
	}
	defer t.Close()
	j := t.Journal()
	d := decodeData(j)
	rep.From, rep.To = j.From, j.To
	r := &runner{opt: opt, in: in, t: t}
	svcs := opt.services(in)
	// The service may run a mixed tree, or not run at all: stop it either way.
	if err := r.serviceCall(ctx, "stop", svcs.Stop); err != nil {
		opt.logf("stop before recovery: %v", err)
	}
	// What finishing writes as the version file: the new version for an update, the old
	// bytes back for an undo.
	finishVersion := func() error {
		if j.Kind == txn.KindUndo {
			return in.RestoreVersionFile(d.OldVersion)
		}
		return in.WriteVersion(d.NewVersion)
	}
	switch {
	case j.Phase == txn.PhaseCommitted || (t.CanFinish() && j.Reached(phaseHealthy)):
		opt.logf("recover: run %s had passed its health check; finishing it", j.ID)
		if err := finishVersion(); err != nil {
			return rep, err
		}
		backup, err := t.Commit(ctx)
		if err != nil {
			return rep, err
		}
		rep.Backup = backup
		if err := r.startChecked(ctx); err != nil {
			return rep, &outcome.FailedError{Err: err, Manual: "the update is complete but OMFLOW does not start: read the log, then run rollback"}
		}
		rep.OK, rep.Action, rep.Version = true, "finished", j.To
	case t.CanFinish():
		opt.logf("recover: every file of run %s is in place; starting the new version", j.ID)
		if err := r.startChecked(ctx); err == nil {
			if err := t.Mark(ctx, phaseHealthy); err != nil {
				return rep, err
			}
			if err := finishVersion(); err != nil {
				return rep, err
			}
			if rep.Backup, err = t.Commit(ctx); err != nil {
				return rep, err
			}
			rep.OK, rep.Action, rep.Version = true, "finished", j.To
			return rep, nil
		} else {
			opt.logf("recover: the new version does not answer (%v); rolling back", err)
			r.serviceCall(ctx, "stop", svcs.Stop)
		}
		fallthrough
	default:
		opt.logf("recover: rolling back run %s", j.ID)
		if err := r.rollback(ctx, nil, d, j.Kind); err != nil {
			return rep, err
		}
		rep.OK, rep.Action, rep.Version = true, "rolled-back", j.From
	}
	return rep, nil
}
