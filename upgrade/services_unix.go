//go:build !windows

package upgrade

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/runlog"
	"omflow-upgrade/upgrade/svc"
)

// platformServices is the control script on Linux, fenced through systemd when OMFLOW's
// unit starts at boot.
func platformServices(in *install.Installation, log *runlog.Log) svc.Manager {
	return &fencedScript{
		Script:    svc.Script{Argv: in.Control(), Dir: in.Root, Out: log.Writer("service: ")},
		unit:      &svc.Systemd{Logf: log.Logf},
		fenceFile: filepath.Join(in.StateDir(), fenceFileName),
	}
}

// fencedScript keeps OMFLOW from starting by itself while the tree is mixed (SPEC 4.4):
// Stop disables the boot-time unit first (remembering it in the state folder, so that a
// crash leaves it for the next Start), Start enables it again before it starts the
// service. Every run stops the service before it changes files and starts it only once
// the tree is whole again, the new one or the old one.
type fencedScript struct {
	svc.Script
	unit      *svc.Systemd
	fenceFile string
}

var _ svc.Manager = (*fencedScript)(nil)

func (s *fencedScript) Stop(ctx context.Context) error {
	if _, err := os.Stat(s.fenceFile); errors.Is(err, fs.ErrNotExist) && s.unit.Enabled(ctx) {
		if err := os.MkdirAll(filepath.Dir(s.fenceFile), 0o755); err != nil {
			return err
		}
		if err := install.WriteFileAtomic(s.fenceFile, []byte(`{"systemd":"omflow_server"}`+"\n"), 0o644); err != nil {
			return err
		}
		if _, err := s.unit.DisableAutostart(ctx); err != nil {
			os.Remove(s.fenceFile)
			return err
		}
	}
	return s.Script.Stop(ctx)
}

func (s *fencedScript) Start(ctx context.Context) error {
	if _, err := os.Stat(s.fenceFile); err == nil {
		if err := s.unit.Restore(ctx); err != nil {
			return err
		}
		if err := os.Remove(s.fenceFile); err != nil {
			return err
		}
	}
	return s.Script.Start(ctx)
}

// fenceFileName, in the installation's state folder, says the fence is up: which
// automatic start it turned off.
const fenceFileName = "autostart.json"
