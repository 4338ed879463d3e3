package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/runlog"
	"omflow-upgrade/upgrade/svc"
)

// platformServices is the control command when one is configured (omflow-upgrade.json's
// "control", or -control); otherwise OMFLOW's services in the Windows service control
// manager: those named in omflow-upgrade.json's "services", or those whose program lives
// under the root.
func platformServices(in *install.Installation, log *runlog.Log) svc.Manager {
	if len(in.Config.Control) > 0 {
		return &svc.Script{Argv: in.Control(), Dir: in.Root, Out: log.Writer("service: ")}
	}
	return &scmServices{
		opt:       svc.SCMOptions{Root: in.Root, Names: in.Config.Services, Logf: log.Logf},
		fenceFile: filepath.Join(in.StateDir(), fenceFileName),
	}
}

// fenceFileName, in the installation's state folder, holds the start types the fence
// changed, so that they come back even after a crash or a reboot in between.
const fenceFileName = "autostart.json"

// scmServices is OMFLOW's services through the SCM. It connects for each call (the
// Manager has no Close, and a run makes a handful of calls).
//
// It also keeps OMFLOW from starting by itself while the tree is mixed (the fence, SPEC
// 4.4): Stop first sets every OMFLOW service that starts automatically to manual start;
// Start puts the start types back before it starts them. Every caller stops the service
// before it changes files and starts it only once the tree is whole again (the new one,
// or the old one after a rollback), so a reboot in between never starts a mixed tree; a
// rollback that fails leaves the services on manual start until recover starts them.
// The previous start types are saved in the state folder before the first change, so a
// crash leaves them for the next Start (recover's) to restore.
type scmServices struct {
	opt       svc.SCMOptions
	fenceFile string
}

var (
	_ svc.Manager = (*scmServices)(nil)
	_ svc.Fence   = (*scmServices)(nil)
)

func (s *scmServices) with(do func(*svc.SCMManager) error) error {
	m, closeSCM, err := svc.OpenSCMManager(s.opt)
	if err != nil {
		return err
	}
	defer closeSCM()
	return do(m)
}

func (s *scmServices) Status(ctx context.Context) (st svc.State, err error) {
	err = s.with(func(m *svc.SCMManager) error {
		st, err = m.Status(ctx)
		return err
	})
	return st, err
}

func (s *scmServices) Stop(ctx context.Context) error {
	return s.with(func(m *svc.SCMManager) error {
		if err := s.fence(ctx, m); err != nil {
			return err
		}
		return m.Stop(ctx)
	})
}

func (s *scmServices) Start(ctx context.Context) error {
	return s.with(func(m *svc.SCMManager) error {
		if err := s.unfence(ctx, m); err != nil {
			return err
		}
		return m.Start(ctx)
	})
}

// DisableAutostart is the fence on its own, for a caller that keeps the restore function
// itself (svc.Fence).
func (s *scmServices) DisableAutostart(ctx context.Context) (func(context.Context) error, error) {
	err := s.with(func(m *svc.SCMManager) error { return s.fence(ctx, m) })
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		return s.with(func(m *svc.SCMManager) error { return s.unfence(ctx, m) })
	}, nil
}

// fence saves the start types of the automatic services and sets them to manual. A fence
// file left by an earlier run is kept as it is: it holds the types from before that run.
func (s *scmServices) fence(ctx context.Context, m *svc.SCMManager) error {
	saved, err := s.saved()
	if err != nil {
		return err
	}
	types, err := m.StartTypes(ctx)
	if err != nil {
		return err
	}
	manual := map[string]svc.StartType{}
	for n, t := range types {
		if _, ok := saved[n]; ok {
			continue
		}
		if t == svc.StartAutomatic {
			saved[n] = t
			manual[n] = svc.StartManual
		}
	}
	if len(manual) == 0 {
		return nil
	}
	if err := s.save(saved); err != nil {
		return err
	}
	if err := m.SetStartTypes(ctx, manual); err != nil {
		// Put back what did change; the file goes when that worked.
		return errors.Join(err, s.unfence(context.WithoutCancel(ctx), m))
	}
	return nil
}

// unfence puts back the start types the fence saved, then removes the fence file.
func (s *scmServices) unfence(ctx context.Context, m *svc.SCMManager) error {
	saved, err := s.saved()
	if err != nil || len(saved) == 0 {
		return err
	}
	if err := m.SetStartTypes(ctx, saved); err != nil {
		return fmt.Errorf("%w (the start types to restore are in %s)", err, s.fenceFile)
	}
	if err := os.Remove(s.fenceFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", s.fenceFile, err)
	}
	return nil
}

// fenceRecord is the fence file: service name -> start type before the fence.
type fenceRecord map[string]string

func (s *scmServices) saved() (map[string]svc.StartType, error) {
	out := map[string]svc.StartType{}
	b, err := os.ReadFile(s.fenceFile)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the saved start types %s: %w", s.fenceFile, err)
	}
	var rec fenceRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("read the saved start types %s: %w (set each OMFLOW service's start type by hand, then delete the file)", s.fenceFile, err)
	}
	for n, name := range rec {
		t, ok := startTypeByName(name)
		if !ok {
			return nil, fmt.Errorf("read the saved start types %s: service %q: unknown start type %q", s.fenceFile, n, name)
		}
		out[n] = t
	}
	return out, nil
}

func (s *scmServices) save(types map[string]svc.StartType) error {
	rec := fenceRecord{}
	for _, n := range slices.Sorted(maps.Keys(types)) {
		rec[n] = types[n].String()
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.fenceFile), 0o755); err != nil {
		return fmt.Errorf("save the start types: %w", err)
	}
	if err := install.WriteFileAtomic(s.fenceFile, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save the start types in %s: %w", s.fenceFile, err)
	}
	return nil
}

func startTypeByName(name string) (svc.StartType, bool) {
	for _, t := range []svc.StartType{svc.StartBoot, svc.StartSystem, svc.StartAutomatic, svc.StartManual, svc.StartDisabled} {
		if t.String() == name {
			return t, true
		}
	}
	return 0, false
}
