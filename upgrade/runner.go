package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/txn"
)

// RunReport is what rollback and recover did.
type RunReport struct {
	OK bool `json:"ok"`
	// Action: "rolled-back" (rollback, or recover undoing an interrupted run),
	// "finished" (recover completing a run whose files were all in place), "none".
	Action  string `json:"action"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Version string `json:"version"` // where the installation is now
	Backup  string `json:"backup,omitempty"`
	// Database says what a rollback did with a database the site had written to since
	// the update: "files-only" (today's stayed) or "discard-data" (the old one is back,
	// today's is kept as DatabaseKept, root-relative).
	Database     string `json:"database,omitempty"`
	DatabaseKept string `json:"database_kept,omitempty"`
	Log          string `json:"log,omitempty"`
}

func decodeData(j *txn.Journal) runData {
	var d runData
	if len(j.Data) > 0 {
		if err := json.Unmarshal(j.Data, &d); err != nil {
			d = runData{}
		}
	}
	return d
}

// Rollback undoes the last applied update not yet undone, from its kept backup: the
// service is stopped, the originals go back by rename, the update's new files go, the old
// version file comes back, and the old service starts. With no kept backup left to undo
// it is refused.
func (s *Session) Rollback(ctx context.Context) (*RunReport, error) {
	defer s.follow()()
	opt, in := s.opt, s.begin()
	defer s.settle(in)
	if err := recoverFirst(ctx, &opt, in); err != nil {
		return nil, err
	}
	rep := &RunReport{Version: in.Version.String()}
	guard, err := guardData(ctx, &opt, in, opt.RollbackData)
	if err != nil {
		return rep, err
	}
	t, err := txn.BeginUndo(ctx, in.StateDir(), in.Root, txn.Options{Command: "rollback", Keep: in.KeepBackups(), Logf: opt.logf, Hook: opt.Hook,
		Progress: func(done, total int64) { opt.progress().Bytes(done, total) }})
	if err != nil {
		return rep, err
	}
	defer t.Close()
	j := t.Journal()
	d := decodeData(j)
	rep.From, rep.To = j.From, j.To
	opt.logf("rollback: %s -> %s", j.From, j.To)
	r := &runner{opt: &opt, in: in, t: t}
	var beforeStart func() error
	if d.Python != nil {
		beforeStart = func() error { return undoPython(ctx, &opt, in, d.Python) }
	}
	if guard != nil {
		python := beforeStart
		beforeStart = func() error {
			if python != nil {
				if err := python(); err != nil {
					return err
				}
			}
			return guard.afterUndo(&opt, in, t)
		}
		rep.Database, rep.DatabaseKept = string(guard.choice), guard.kept
	}
	if err := r.swap(ctx, beforeStart, func() error { return in.RestoreVersionFile(d.OldVersion) }); err != nil {
		return rep, err
	}
	rep.OK, rep.Action, rep.Version = true, "rolled-back", j.To
	return rep, nil
}

// runner holds what rollback and recover share with apply.
type runner struct {
	opt *Options
	in  *install.Installation
	t   *txn.Txn
}

func (r *runner) serviceCall(ctx context.Context, what string, call func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, r.in.StartTimeout())
	defer cancel()
	r.opt.logf("service %s", what)
	return call(cctx)
}

// startChecked starts the service and waits for its health check.
func (r *runner) startChecked(ctx context.Context) error {
	if err := r.serviceCall(ctx, "start", r.opt.services(r.in).Start); err != nil {
		return err
	}
	return checkHealth(ctx, r.opt, r.in)
}

// swap runs a prepared transaction (an undo) with the service stopped around it:
// apply, beforeStart (when set: the old Python environment back, the database as the
// administrator chose), start, health check,
// then writeVersion and commit; a failure before beforeStart rolls it back and restarts
// what was there.
func (r *runner) swap(ctx context.Context, beforeStart, writeVersion func() error) error {
	svcs := r.opt.services(r.in)
	if err := r.serviceCall(ctx, "stop", svcs.Stop); err != nil {
		r.t.Rollback(context.WithoutCancel(ctx), nil)
		r.startChecked(context.WithoutCancel(ctx))
		return &outcome.FailedError{RolledBack: true, Err: fmt.Errorf("stop the OMFLOW service: %w", err)}
	}
	if err := r.t.Apply(ctx); err != nil {
		return r.afterFailure(ctx, err)
	}
	if beforeStart != nil {
		if err := beforeStart(); err != nil {
			return &outcome.FailedError{Err: err, Manual: "the previous version's files are back but not all of the rest (" + err.Error() + "): " +
				"put it back from the update's backup, then start OMFLOW"}
		}
	}
	if err := r.startChecked(ctx); err != nil {
		if beforeStart != nil {
			// The files and the Python of the previous version are both back: that is the
			// consistent state, even though it does not answer.
			return &outcome.FailedError{Err: err, Manual: "the previous version's files and Python environment are back, but OMFLOW does not start: read the log"}
		}
		r.serviceCall(context.WithoutCancel(ctx), "stop", svcs.Stop)
		return r.afterFailure(ctx, r.t.Rollback(context.WithoutCancel(ctx), err))
	}
	if err := r.t.Mark(ctx, phaseHealthy); err != nil {
		return err
	}
	if err := writeVersion(); err != nil {
		return err
	}
	_, err := r.t.Commit(context.WithoutCancel(ctx))
	return err
}

// afterFailure restarts the service of the tree that is back after a rolled-back run.
func (r *runner) afterFailure(ctx context.Context, err error) error {
	var failed *outcome.FailedError
	if !errors.As(err, &failed) {
		return err
	}
	if failed.RolledBack {
		if serr := r.startChecked(context.WithoutCancel(ctx)); serr != nil {
			failed.RolledBack = false
			failed.Manual = fmt.Sprintf("the files are back as they were, but OMFLOW does not start: %v", serr)
		}
	}
	return failed
}

// rollback puts the previous version back after a failure (cause) or for an interrupted
// run (cause nil): the old Python environment, the files, the version file, and starts
// the old service. nil means the installation is as it was and its service runs; else a
// *outcome.FailedError that is not rolled back and says what to do by hand.
func (r *runner) rollback(ctx context.Context, cause error, d runData, kind string) error {
	broken := func(err error, manual string) error {
		if cause != nil {
			err = fmt.Errorf("%w; rollback: %v", cause, err)
		}
		return &outcome.FailedError{Err: err, Manual: manual}
	}
	if kind == txn.KindApply {
		if err := undoPython(ctx, r.opt, r.in, d.Python); err != nil {
			return broken(err, fmt.Sprintf("put the old Python environment back by hand from %s, then run recover", d.Python.BackupDir))
		}
	}
	err := r.t.Rollback(ctx, cause)
	var failed *outcome.FailedError
	switch {
	case errors.As(err, &failed) && !failed.RolledBack:
		return err
	case err != nil && failed == nil:
		return err
	}
	if kind == txn.KindApply {
		if werr := r.in.RestoreVersionFile(d.OldVersion); werr != nil {
			return broken(werr, fmt.Sprintf("write the old version file back: %v", werr))
		}
	}
	if serr := r.startChecked(ctx); serr != nil {
		return broken(serr, fmt.Sprintf("the files are back as they were, but the old OMFLOW service does not run: %v; %s, and read its log", serr, startHint(r.in)))
	}
	return nil
}

// startHint says how to start OMFLOW by hand.
func startHint(in *install.Installation) string {
	if in.Layout == install.Windows && len(in.Config.Control) == 0 {
		return "start the OMFLOW services (Services console, or sc start)"
	}
	return "start it with " + in.Control()[0] + " start"
}

// checkHealth waits for OMFLOW's login page to answer 200, within the start timeout.
func checkHealth(ctx context.Context, opt *Options, in *install.Installation) error {
	hctx, cancel := context.WithTimeout(ctx, in.StartTimeout())
	defer cancel()
	err := svc.CheckHealth(hctx, in.HealthURL())
	if err != nil {
		opt.logf("health check: %v", err)
		return err
	}
	opt.logf("health check: %s answers 200", in.HealthURL())
	return nil
}
