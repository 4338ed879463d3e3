package svc

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Systemd fences a Linux installation whose service is a systemd unit (newer OMFLOW
// installations register omflow_server): while the tree is mixed, the unit is disabled
// so that a reboot does not start a half-updated OMFLOW. Without systemctl, or without
// the unit, there is nothing to fence.
type Systemd struct {
	Unit string                           // default omflow_server
	Logf func(format string, args ...any) // may be nil
}

var _ Fence = (*Systemd)(nil)

func (s *Systemd) unit() string {
	if s.Unit == "" {
		return "omflow_server"
	}
	return s.Unit
}

func (s *Systemd) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// Enabled says whether the unit starts at boot (false when there is no such unit or no
// systemd).
func (s *Systemd) Enabled(ctx context.Context) bool {
	out, err := exec.CommandContext(ctx, "systemctl", "is-enabled", s.unit()).Output()
	return err == nil && strings.TrimSpace(string(out)) == "enabled"
}

// DisableAutostart disables an enabled unit and returns what enables it again.
func (s *Systemd) DisableAutostart(ctx context.Context) (func(context.Context) error, error) {
	if !s.Enabled(ctx) {
		s.logf("fence: unit %s does not start at boot (or there is no systemd unit): nothing to fence", s.unit())
		return func(context.Context) error { return nil }, nil
	}
	if err := s.systemctl(ctx, "disable"); err != nil {
		return nil, err
	}
	s.logf("fence: unit %s disabled until the update is committed or rolled back", s.unit())
	return s.Restore, nil
}

// Restore enables the unit again.
func (s *Systemd) Restore(ctx context.Context) error {
	if err := s.systemctl(ctx, "enable"); err != nil {
		return err
	}
	s.logf("fence: unit %s enabled again", s.unit())
	return nil
}

func (s *Systemd) systemctl(ctx context.Context, action string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "systemctl", action, s.unit())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("systemctl %s %s: %w: %s", action, s.unit(), err, strings.TrimSpace(out.String()))
	}
	return nil
}
