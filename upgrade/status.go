package upgrade

import (
	"context"
	"time"

	"omflow-upgrade/upgrade/svc"
)

// StatusReport is what status says: SPEC 5's status -json.
type StatusReport struct {
	Root    string   `json:"root"`
	Version string   `json:"version"`
	Service string   `json:"service"`
	Healthy bool     `json:"healthy"`
	Health  string   `json:"health_url"`
	Pending *Pending `json:"pending"`
	Backups []Backup `json:"backups"`
	// Fenced says the service's automatic start is disabled by an unfinished run.
	Fenced bool   `json:"fenced"`
	Lock   string `json:"lock,omitempty"`
	Log    string `json:"log,omitempty"`
}

// Pending is an interrupted run waiting for recover.
type Pending struct {
	ID      string    `json:"id"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Phase   string    `json:"phase"`
	Started time.Time `json:"started"`
}

// Backup is a kept backup of an applied update, newest first.
type Backup struct {
	ID   string    `json:"id"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Time time.Time `json:"time"`
	Path string    `json:"path"`
}

// Status reports the installation's version, service and health, an interrupted run and
// the kept backups. It is read-only.
func (s *Session) Status(ctx context.Context) (*StatusReport, error) {
	opt, in := s.opt, s.begin()
	r := &StatusReport{Root: in.Root, Version: in.Version.String(), Health: in.HealthURL(), Backups: []Backup{}}
	st, err := opt.services(in).Status(ctx)
	switch {
	case err != nil:
		r.Service = "unknown"
		opt.logf("service status: %v", err)
	default:
		r.Service = string(st)
	}
	if st == svc.Running {
		hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		herr := svc.CheckHealth(hctx, in.HealthURL())
		cancel()
		r.Healthy = herr == nil
		if herr != nil {
			opt.logf("health: %v", herr)
		}
	}
	if err := fillState(in, r); err != nil {
		return nil, err
	}
	return r, nil
}
