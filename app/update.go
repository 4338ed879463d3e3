package app

import (
	"context"
	"errors"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/wizard"
)

// updateScreen runs the transaction: a list of its steps, a progress bar and a live
// log. Cancel rolls back (after the wizard's question) and the screen says so.
type updateScreen struct {
	a    *App
	step *wizard.Step

	intro, result, logPath *widget.Label
	steps                  *wizard.Checklist
	work                   *wizard.Work

	started, finished bool
	hop               int // the step of a chain running, from 0
	// settled is set once the result is on the screen (tests wait for it).
	settled   atomic.Bool
	cancelled bool
	current   string // the step running
	// failed is the step the update failed at, once it has.
	failed string
	states map[string]wizard.State
	order  []string // the steps listed
}

// updateSteps are the steps listed, in the order the core runs them (rollback is added
// when it happens).
var updateSteps = []string{upgrade.StepPreflight, upgrade.StepStage, upgrade.StepBackup, upgrade.StepStop,
	upgrade.StepApply, upgrade.StepStart, upgrade.StepHealth, upgrade.StepVersion, upgrade.StepCommit}

// stepKeys are the message ids of the steps.
var stepKeys = map[string]string{
	upgrade.StepPreflight:     "update.step.preflight",
	upgrade.StepStage:         "update.phase.stage",
	upgrade.StepBackup:        "update.step.backup",
	upgrade.StepStop:          "update.step.stop",
	upgrade.StepApply:         "update.step.apply",
	upgrade.StepPython:        "update.step.python",
	upgrade.StepPythonPrepare: "update.step.pythonPrepare",
	upgrade.StepSchema:        "update.step.schema",
	upgrade.StepMigrate:       "update.step.migrate",
	upgrade.StepStart:         "update.step.start",
	upgrade.StepHealth:        "update.step.health",
	upgrade.StepVersion:       "update.step.version",
	upgrade.StepCommit:        "update.phase.commit",
	upgrade.StepRollback:      "update.phase.rollback",
}

func newUpdateScreen(a *App) *updateScreen {
	s := &updateScreen{a: a, states: map[string]wizard.State{}}
	s.intro = wrapped("")
	s.result = wrapped("")
	s.result.TextStyle.Bold = true
	s.logPath = wrapped("")
	s.logPath.Selectable = true
	s.logPath.Importance = widget.LowImportance
	s.steps = wizard.NewChecklist()
	s.work = wizard.NewWork(0)
	s.order = append([]string(nil), updateSteps...)
	// The steps take what their names need; the live log gets the rest of the width.
	split := container.NewHSplit(container.NewVScroll(s.steps), s.work)
	split.Offset = 0.4
	s.step = &wizard.Step{
		NoBack: true,
		Content: container.NewBorder(s.intro, container.NewVBox(s.result, s.logPath), nil, nil,
			split),
		OnEnter: s.start,
	}
	s.relabel()
	return s
}

func (s *updateScreen) relabel() {
	a := s.a
	s.step.SetTitle(a.t("update.title", nil))
	from, to := "", ""
	if r := a.report; r != nil {
		from, to = r.Installed, r.Update
	}
	intro := a.t("update.intro", map[string]any{"From": from, "To": to})
	if p := a.plan; a.folder && p != nil && len(p.Steps) > 0 {
		intro = a.t("update.intro", map[string]any{"From": p.Installed, "To": p.Target})
		hop := min(s.hop, len(p.Steps)-1)
		hopFrom := p.Installed
		if hop > 0 {
			hopFrom = p.Steps[hop-1].Version
		}
		intro += "\n" + a.t("update.hop", map[string]any{"Hop": hop + 1, "Hops": len(p.Steps), "From": hopFrom, "To": p.Steps[hop].Version})
	}
	s.intro.SetText(intro)
	s.logPath.SetText(a.t("app.log.path", map[string]any{"Path": a.LogPath()}))
	for _, name := range s.order {
		s.steps.Set(name, a.t(stepKeys[name], nil), s.states[name], "")
	}
	if s.current != "" && !s.finished {
		s.work.Status(a.t(stepKeys[s.current], nil))
	}
	s.relabelResult()
	s.step.SetNextEnabled(s.finished)
}

func (s *updateScreen) relabelResult() {
	a := s.a
	rep, err := a.applied, a.applyErr
	if !s.finished {
		s.result.SetText("")
		return
	}
	var failed *outcome.FailedError
	switch {
	case err == nil:
		s.result.SetText(a.t("update.done", map[string]any{"Version": rep.Version}))
		setImportance(s.result, widget.SuccessImportance)
	case s.cancelled && errors.As(err, &failed) && failed.RolledBack:
		s.result.SetText(a.t("update.rolledBack", map[string]any{"Version": a.versionNow()}))
		setImportance(s.result, widget.WarningImportance)
	case errors.As(err, &failed) && failed.RolledBack:
		// The error itself is in the dialog and on the next screen; here, the outcome.
		s.result.SetText(a.t("error.title", nil) + "\n" + a.t("restart.rolledBack", map[string]any{"Version": a.versionNow()}))
		setImportance(s.result, widget.DangerImportance)
	case errors.As(err, &failed):
		s.result.SetText(a.t("restart.rollbackFailed", map[string]any{"Manual": failed.Manual}))
		setImportance(s.result, widget.DangerImportance)
	default:
		s.result.SetText(a.t("error.title", nil) + "\n" + a.t("error.keptNothing", nil))
		setImportance(s.result, widget.DangerImportance)
	}
}

// versionNow is the installed version after the run: what the core reported, else the
// version before it.
func (a *App) versionNow() string {
	if a.applied != nil && a.applied.Version != "" {
		return a.applied.Version
	}
	if a.report != nil {
		return a.report.Installed
	}
	return ""
}

// start runs the update once, when the screen is first shown.
func (s *updateScreen) start() {
	a := s.a
	if s.started {
		return
	}
	s.started = true
	s.order = s.baseOrder()
	sess, sessErr := a.session(a.ctx)
	prog := &progress{s: s}
	if sess != nil {
		sess = sess.With(func(o *upgrade.Options) { o.Progress = prog })
	}
	path, folder := a.cfg.Package, a.folder
	a.log.Logf("update: %s", path)
	a.wz.Run(s.work, func(ctx context.Context, _ wizard.Reporter) error {
		var rep *upgrade.ApplyReport
		var chain *upgrade.ChainReport
		var err error
		switch {
		case sessErr != nil:
			err = sessErr
		case folder:
			chain, err = sess.ApplyChain(ctx, path, "")
			if chain != nil {
				rep = &upgrade.ApplyReport{OK: err == nil, From: chain.Installed, Update: chain.Target, Version: chain.Version}
			}
		default:
			rep, err = sess.Apply(ctx, path)
		}
		cancelled := ctx.Err() != nil
		fyne.Do(func() {
			a.applied, a.chain, s.cancelled = rep, chain, cancelled
		})
		return err
	}, s.done)
}

// done shows how the update ended, on the UI goroutine.
func (s *updateScreen) done(err error) {
	a := s.a
	s.finished = true
	a.applyErr = err
	if err != nil && s.failed == "" && s.current != upgrade.StepRollback {
		s.failed = s.current
	}
	var failed *outcome.FailedError
	switch {
	case err == nil:
		for _, name := range s.order {
			s.states[name] = wizard.Passed
		}
		s.work.Progress(1)
		a.log.Logf("update done: OMFLOW %s", a.applied.Version)
	case errors.As(err, &failed):
		if s.current != "" && s.current != upgrade.StepRollback {
			s.states[s.current] = wizard.Failed
		}
		s.addStep(upgrade.StepRollback)
		s.states[upgrade.StepRollback] = pickState(failed.RolledBack)
		a.log.Logf("update failed (rolled back: %v): %v", failed.RolledBack, err)
	default:
		if s.current != "" {
			s.states[s.current] = wizard.Failed
		}
		a.log.Logf("update refused or impossible: %v", err)
	}
	s.current = ""
	s.work.Status("")
	s.relabel()
	a.restart.relabel()
	if err != nil && !(s.cancelled && failed != nil && failed.RolledBack) {
		kept := a.t("error.keptNothing", nil)
		if failed != nil {
			kept = a.t("error.keptRolledBack", map[string]any{"Version": a.versionNow()})
			if c := a.chain; c != nil && c.Version != c.Installed {
				kept = a.t("error.keptHops", map[string]any{"Version": c.Version})
			}
			if !failed.RolledBack {
				kept = a.t("error.keptBroken", map[string]any{"Manual": failed.Manual})
			}
		}
		a.showError(a.happened(err, s.failed), err, kept)
	}
	// The installation has changed (or been rolled back): leaving is Finish now, not a
	// Cancel that would claim nothing was changed.
	a.wz.SetCancelEnabled(false)
	s.settled.Store(true)
}

func pickState(ok bool) wizard.State {
	if ok {
		return wizard.Passed
	}
	return wizard.Failed
}

// canonicalSteps are every step the core may report, in the order it runs them.
var canonicalSteps = []string{upgrade.StepPreflight, upgrade.StepStage, upgrade.StepBackup, upgrade.StepPythonPrepare, upgrade.StepStop,
	upgrade.StepApply, upgrade.StepPython, upgrade.StepSchema, upgrade.StepMigrate, upgrade.StepStart, upgrade.StepHealth,
	upgrade.StepVersion, upgrade.StepCommit, upgrade.StepRollback}

func rank(name string) int {
	for i, n := range canonicalSteps {
		if n == name {
			return i
		}
	}
	return len(canonicalSteps)
}

// addStep lists a step the core reports that the list lacks (migrations, rollback) in
// its place.
func (s *updateScreen) addStep(name string) {
	for _, n := range s.order {
		if n == name {
			return
		}
	}
	i := 0
	for i < len(s.order) && rank(s.order[i]) <= rank(name) {
		i++
	}
	s.order = append(s.order[:i], append([]string{name}, s.order[i:]...)...)
}

// baseOrder is the list of steps before the update runs: the Python move's when the
// check found one.
func (s *updateScreen) baseOrder() []string {
	order := append([]string(nil), updateSteps...)
	s.order = order
	if s.a.movesPython() {
		s.addStep(upgrade.StepPythonPrepare)
		s.addStep(upgrade.StepPython)
	}
	return s.order
}

// reached marks a new step running and the one before it done, on the UI goroutine.
func (s *updateScreen) reached(name string) {
	if name == upgrade.StepPreflight && s.current != "" {
		// The next step of a chain: its own list of steps.
		s.hop++
		s.order = s.baseOrder()
		s.states = map[string]wizard.State{}
		s.current = ""
	}
	if name == upgrade.StepRollback {
		if s.current != "" {
			s.states[s.current] = wizard.Failed
			s.failed = s.current
		}
	} else if s.current != "" {
		s.states[s.current] = wizard.Passed
	}
	s.addStep(name)
	s.current = name
	s.states[name] = wizard.Running
	done := 0
	for i, n := range s.order {
		if n == name {
			done = i
		}
	}
	s.work.Progress(float64(done) / float64(len(s.order)))
	s.relabel()
}

// Step names the step running now (tests): its id, "" when none.
func (s *updateScreen) Step() string { return s.current }

// progress hears the core from its worker goroutine and hops to the UI.
type progress struct {
	s *updateScreen
}

var _ upgrade.Progress = (*progress)(nil)

func (p *progress) Step(name string) {
	fyne.Do(func() { p.s.reached(name) })
}

func (p *progress) Bytes(done, total int64) {
	if total <= 0 {
		return
	}
	fyne.Do(func() {
		i := 0
		for j, n := range p.s.order {
			if n == p.s.current {
				i = j
			}
		}
		p.s.work.Progress((float64(i) + float64(done)/float64(total)) / float64(len(p.s.order)))
	})
}

func (p *progress) Logf(format string, args ...any) { p.s.work.Logf(format, args...) }

// Hop needs nothing more: the next step's preflight starts its list (reached).
func (p *progress) Hop(int, int, string, string) {}

// Line shows the run's log, and a chain step's own, in the live log: the same lines the
// log keeps.
func (p *progress) Line(line string) { p.s.work.Logf("%s", line) }
