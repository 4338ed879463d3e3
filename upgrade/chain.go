package upgrade

import (
	"context"

	"omflow-upgrade/upgrade/runlog"
)

// Hop is one update of a chain as apply reports it.
type Hop struct {
	Version string `json:"version"`
	Package string `json:"package"`
	OK      bool   `json:"ok"`
	Log     string `json:"log"`
	Error   string `json:"error,omitempty"`
}

// ChainReport is apply given a folder: the plan, each hop, the version reached.
type ChainReport struct {
	Installed string      `json:"installed"`
	Target    string      `json:"target"`
	Hops      []Hop       `json:"hops"`
	Version   string      `json:"version"`
	Plan      *PlanReport `json:"plan"`
	Log       string      `json:"log,omitempty"`
}

// ApplyChain plans the chain over the packages of dir and applies it hop by hop, one full
// transaction each (its own log, health check and commit). A failing hop is rolled back
// and the run stops there: the earlier hops stay, and Version says where the
// installation is. The error is that hop's.
func (s *Session) ApplyChain(ctx context.Context, dir, target string) (*ChainReport, error) {
	opt := s.opt
	defer s.follow()()
	plan, err := s.Plan(ctx, dir, target)
	if plan == nil {
		return nil, err
	}
	r := &ChainReport{Installed: plan.Installed, Target: plan.Target, Hops: []Hop{}, Version: plan.Installed, Plan: plan}
	if err != nil {
		return r, err
	}
	logs := s.Installation().LogsDir()
	for i, step := range plan.Steps {
		log := runlog.Open(logs, "apply-"+step.Version)
		hop := s.With(func(o *Options) { o.Log = log })
		opt.logf("hop %d of %d: %s (%s), log %s", i+1, len(plan.Steps), step.Version, step.Package, log.Path)
		opt.progress().Logf("hop %d of %d: OMFLOW %s", i+1, len(plan.Steps), step.Version)
		opt.progress().Hop(i+1, len(plan.Steps), step.Version, log.Path)
		rep, err := hop.Apply(ctx, step.Package)
		log.Close()
		h := Hop{Version: step.Version, Package: step.Package, OK: err == nil, Log: log.Path}
		if rep != nil {
			r.Version = rep.Version
		}
		if err != nil {
			h.Error = err.Error()
			r.Hops = append(r.Hops, h)
			opt.logf("hop %s failed: %v; stopping at %s", step.Version, err, r.Version)
			return r, err
		}
		r.Hops = append(r.Hops, h)
	}
	return r, nil
}
