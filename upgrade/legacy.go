package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/txn"
)

// legacyShell runs a patch.sh without a #! line, as a shell does when execve refuses such
// a file.
const legacyShell = "/bin/sh"

// legacyArgv is the command patch.sh runs with, the script's name left out: the way
// `sudo ./patch.sh` runs it, with its own #! interpreter and argument, or /bin/sh when it
// has no #! line. The interpreter is named explicitly, so that a patch.sh extracted
// without its executable bit runs too. An interpreter this machine cannot run is a
// refusal (*outcome.RefusedError), found before anything changes; so is any patch.sh on
// Windows.
func legacyArgv(l *pkg.Legacy, goos string) ([]string, error) {
	refuse := func(reason Reason, format string, args ...any) error {
		return &outcome.RefusedError{Reason: reason,
			Err: fmt.Errorf("legacy patch %s: %s; nothing was changed", l.Display(), fmt.Sprintf(format, args...))}
	}
	if goos == "windows" {
		return nil, refuse(ReasonLegacyUnsupported, "patch.sh runs on Linux only: use this version's Windows update program")
	}
	if l.Shebang == "" {
		return []string{legacyShell}, nil
	}
	if !filepath.IsAbs(l.Interpreter) {
		return nil, refuse(ReasonLegacyInterpreterInvalid, "patch.sh starts with %q, which names no absolute interpreter path: correct its first line (as in #!/bin/bash)", l.Shebang)
	}
	if err := executable(l.Interpreter); err != nil {
		return nil, refuse(ReasonLegacyInterpreterMissing, "patch.sh starts with %q, and %v: install it or correct patch.sh's first line", l.Shebang, err)
	}
	argv := []string{l.Interpreter}
	if l.InterpreterArg == "" {
		return argv, nil
	}
	// #!/usr/bin/env bash: env would look bash up in PATH with the backup made and the
	// service stopped; look now. env takes the whole argument as one name ("bash -e" fails
	// as it would from a shell); options and assignments are env's own to judge.
	if a := l.InterpreterArg; filepath.Base(l.Interpreter) == "env" && !strings.HasPrefix(a, "-") && !strings.Contains(a, "=") {
		if _, err := exec.LookPath(a); err != nil {
			return nil, refuse(ReasonLegacyInterpreterMissing, "patch.sh starts with %q, and %q is not found in PATH (%s): install it or correct patch.sh's first line", l.Shebang, a, os.Getenv("PATH"))
		}
	}
	return append(argv, l.InterpreterArg), nil
}

// executable says why path cannot be run as an interpreter, or nil.
func executable(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s does not exist on this machine", path)
	case err != nil:
		return err
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s is not a file", path)
	case st.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s is not executable", path)
	}
	return nil
}

// checkLegacy refuses, in the compatibility check, a legacy patch whose patch.sh this
// machine cannot run; it adds nothing for one it can.
func checkLegacy(p *pkg.Package, r *CheckReport) {
	if p.Legacy == nil {
		return
	}
	if _, err := legacyArgv(p.Legacy, runtime.GOOS); err != nil {
		var re *outcome.RefusedError
		errors.As(err, &re)
		r.refuse(CheckItem{Name: CheckPackage, Reason: re.Reason, Message: err.Error()})
	}
}

// runLegacy applies a seed-style patch (a tarball with patch.sh): the whole installation
// is backed up first (a full copy on the same file system), patch.sh runs as the seed
// runs it (./patch.sh from its own folder, as root, with its own #! interpreter), its
// output in the log, then the same start, health check, version file and automatic
// rollback as any update. An interpreter this machine lacks is refused before the
// backup, with nothing changed.
func (a *applier) runLegacy(ctx context.Context) (err error) {
	l := a.p.Legacy
	argv, err := legacyArgv(l, runtime.GOOS)
	if err != nil {
		return err
	}
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
	a.data = runData{Package: a.p.Path, VersionFile: a.in.Layout.VersionFileRel(), NewVersion: l.Version, Legacy: true}
	if a.data.OldVersion, err = os.ReadFile(a.in.VersionFile()); err != nil {
		return fmt.Errorf("read %q: %w", a.in.VersionFile(), err)
	}
	data, _ := json.Marshal(a.data)
	a.prog.Step(StepBackup)
	a.opt.logf("legacy patch %s, version %s: backing up the whole installation first", a.p.Path, l.Display())
	if err := t.PrepareTree(ctx, txn.Plan{From: a.in.Version.String(), To: l.Version, Data: data}); err != nil {
		return err
	}
	svcs := a.opt.services(a.in)
	a.prog.Step(StepStop)
	down := time.Now()
	if err := a.serviceCall(ctx, "stop", svcs.Stop); err != nil {
		return a.failed(ctx, fmt.Errorf("stop the OMFLOW service: %w", err), false)
	}
	a.prog.Step(StepApply)
	script := filepath.Join(dir, filepath.FromSlash(l.Script))
	// ./patch.sh, as the seed types it: $0 is the same, and no PATH lookup can pick
	// another patch.sh.
	argv = append(argv, "./"+filepath.Base(script))
	a.opt.logf("legacy patch %s: running %s in %s", a.p.Path, strings.Join(argv, " "), filepath.Dir(script))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "OMFLOW_HOME="+a.in.Root)
	out := progressLines(a.opt.Log.Writer("patch.sh: "), a.prog)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return a.failed(ctx, fmt.Errorf("patch.sh of %s: %w (its output is in the log)", a.p.Path, err), false)
	}
	if err := t.Apply(ctx); err != nil {
		return a.failed(ctx, err, false)
	}
	return a.startAndCommit(ctx, down, func() error { return nil })
}
