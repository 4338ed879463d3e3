package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"omflow-upgrade/upgrade/txn"
)

// runLegacy applies a seed-style patch (a tarball with patch.sh): the whole installation
// is backed up first (a full copy on the same file system), patch.sh runs as the seed
// runs it (from its own folder, as root), its output in the log, then the same start,
// health check, version file and automatic rollback as any update.
func (a *applier) runLegacy(ctx context.Context) (err error) {
	t, err := txn.Begin(ctx, a.in.StateDir(), a.in.Root, txn.Options{Command: "apply " + a.p.Path, Keep: a.in.KeepBackups(),
		Logf: a.opt.logf, Progress: func(done, total int64) { a.prog.Bytes(done, total) }, Hook: a.opt.Hook})
	if err != nil {
		return err
	}
	a.t = t
	defer func() {
		if cerr := t.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	a.prog.Step(StepStage)
	dir, err := a.p.ExtractTemp(ctx, a.in.StateDir())
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a.data = runData{Package: a.p.Path, VersionFile: a.in.Layout.VersionFileRel(), NewVersion: a.p.Legacy.Version, Legacy: true}
	if a.data.OldVersion, err = os.ReadFile(a.in.VersionFile()); err != nil {
		return fmt.Errorf("read %q: %w", a.in.VersionFile(), err)
	}
	data, _ := json.Marshal(a.data)
	a.prog.Step(StepBackup)
	a.opt.logf("legacy patch %s: backing up the whole installation first", a.p.Path)
	if err := t.PrepareTree(ctx, txn.Plan{From: a.in.Version.String(), To: a.p.Legacy.Version, Data: data}); err != nil {
		return err
	}
	svcs := a.opt.services(a.in)
	a.prog.Step(StepStop)
	down := time.Now()
	if err := a.serviceCall(ctx, "stop", svcs.Stop); err != nil {
		return a.failed(ctx, fmt.Errorf("stop the OMFLOW service: %w", err), false)
	}
	a.prog.Step(StepApply)
	script := filepath.Join(dir, filepath.FromSlash(a.p.Legacy.Script))
	cmd := exec.CommandContext(ctx, "/bin/sh", filepath.Base(script))
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "OMFLOW_HOME="+a.in.Root)
	out := &progressLines{log: a.opt.Log.Writer("patch.sh: "), prog: a.prog}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return a.failed(ctx, fmt.Errorf("patch.sh of %s: %w (its output is in the log)", a.p.Path, err), false)
	}
	if err := t.Apply(ctx); err != nil {
		return a.failed(ctx, err, false)
	}
	return a.startAndCommit(ctx, down, func() error { return nil })
}
