package app

import (
	"errors"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/wizard"
)

// checkScreen runs the compatibility check (read-only) and lists each check with a
// pass or fail mark and, on a fail, the reason and what to do. Its Next reads "Update"
// and is enabled only when every check passes.
type checkScreen struct {
	a    *App
	step *wizard.Step

	intro, summary, logPath                           *widget.Label
	installedHead, instRoot, instVersion, instService *widget.Label
	updateHead, updFile, updVersion, updSig, updExtra *widget.Label
	allowUnsigned, dbBackedUp                         *widget.Check
	configChoice                                      *widget.RadioGroup
	wheels                                            *widget.Label
	wheelsButton                                      *widget.Button
	wheelsBox                                         *fyne.Container
	checks                                            *wizard.Checklist
	configBox                                         *fyne.Container
	configRows                                        map[string]*configRow
	details                                           *details
	diffOpen                                          *dialog.CustomDialog // the difference view last shown
	again                                             *widget.Button
	body                                              *fyne.Container
	scroll                                            *container.Scroll

	running bool
	// settled is set once a check's result is on the screen (tests wait for it).
	settled atomic.Bool
	gen     int // the check whose result counts; a newer run makes older ones stale
}

func newCheckScreen(a *App) *checkScreen {
	s := &checkScreen{a: a}
	s.intro = wrapped("")
	s.summary = wrapped("")
	s.summary.TextStyle.Bold = true
	s.logPath = wrapped("")
	s.logPath.Selectable = true
	s.logPath.Importance = widget.LowImportance
	s.installedHead, s.updateHead = bold(""), bold("")
	s.instRoot, s.instVersion, s.instService = wrapped(""), wrapped(""), wrapped("")
	s.updFile, s.updVersion, s.updSig, s.updExtra = wrapped(""), wrapped(""), wrapped(""), wrapped("")
	s.updFile.Selectable = true
	s.allowUnsigned = widget.NewCheck("", func(on bool) {
		if on != a.cfg.AllowUnsigned {
			a.cfg.AllowUnsigned = on
			s.run()
		}
	})
	s.dbBackedUp = widget.NewCheck("", func(on bool) {
		if on != a.cfg.DBBackedUp {
			a.cfg.DBBackedUp = on
			s.run()
		}
	})
	s.configChoice = widget.NewRadioGroup(nil, func(label string) {
		choice := ""
		switch label {
		case a.t("check.choice.configKeep", nil):
			choice = "keep"
		case a.t("check.choice.configNew", nil):
			choice = "new"
		}
		if choice != a.cfg.ConfigChoice {
			a.cfg.ConfigChoice = choice
			s.run()
		}
	})
	s.wheels = wrapped("")
	s.wheelsButton = widget.NewButton("", s.chooseWheels)
	s.wheelsBox = container.NewBorder(nil, nil, nil, s.wheelsButton, s.wheels)
	s.checks = wizard.NewChecklist()
	s.configBox = container.NewVBox()
	s.details = newDetails(a)
	s.again = widget.NewButton("", s.run)
	// Lines of one box read as one block: the labels' own padding is spacing enough.
	tight := func(objs ...fyne.CanvasObject) *fyne.Container {
		return container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()*2), objs...)
	}
	facts := container.NewGridWithColumns(2,
		tight(s.installedHead, s.instRoot, s.instVersion, s.instService),
		tight(s.updateHead, s.updFile, s.updVersion, s.updSig, s.updExtra))
	s.body = container.NewVBox(facts, s.allowUnsigned, widget.NewSeparator(), s.checks, s.configBox, s.details.acc, s.logPath)
	s.scroll = container.NewVScroll(s.body)
	s.step = &wizard.Step{
		Content: container.NewBorder(s.intro,
			// The choices a failed check asks for stay in sight under the list.
			container.NewVBox(widget.NewSeparator(), s.dbBackedUp, s.configChoice, s.wheelsBox,
				container.NewBorder(nil, nil, nil, s.again, s.summary)),
			nil, nil, s.scroll),
		OnEnter: s.run,
	}
	s.relabel()
	return s
}

// run starts the check in the background; the screen shows "Checking..." meanwhile.
func (s *checkScreen) run() {
	a := s.a
	if !a.loaded || a.cfg.Package == "" {
		return
	}
	s.gen++
	s.settled.Store(false)
	gen := s.gen
	s.running = true
	a.report, a.reportErr = nil, nil
	s.relabel()
	sess, sessErr := a.session(a.ctx)
	log := a.log
	path := a.cfg.Package
	elevated, folder := a.elevated, a.folder
	go func() {
		var plan *upgrade.PlanReport
		var planErr error
		if folder && sess != nil {
			plan, planErr = sess.Plan(a.ctx, path, "")
			path = ""
			if plan != nil && len(plan.Steps) > 0 {
				path = plan.Steps[0].Package
			}
		}
		r, err := s.checkNow(sess, sessErr, path, elevated, folder, plan, planErr)
		diffs, derr := configDiffs(a.ctx, r)
		if derr != nil {
			log.Logf("config differences: %v", derr)
		}
		fyne.Do(func() {
			if gen != s.gen {
				return
			}
			s.running = false
			a.report, a.reportErr, a.configDiffs = r, err, diffs
			if folder {
				a.plan, a.planErr = plan, planErr
			}
			a.oldPythonDir = ""
			if r != nil {
				a.in = r.Installation
				if a.in != nil && a.in.Layout == install.Windows && a.movesPython() {
					a.oldPythonDir = a.in.PythonDir()
				}
				if !folder {
					a.pkg = r.Package
				}
			}
			s.relabel()
			// The Python step may appear or go: lay the step list out again.
			a.wz.Refresh()
			s.settled.Store(true)
		})
	}()
}

// checkNow is the core's check plus what only the wizard asks: administrator rights and
// the Python the update moves to.
func (s *checkScreen) checkNow(sess *upgrade.Session, sessErr error, path string, elevated, folder bool, plan *upgrade.PlanReport, planErr error) (*upgrade.CheckReport, error) {
	ctx := s.a.ctx
	if sessErr != nil {
		return nil, &installError{sessErr}
	}
	if folder && plan == nil {
		return nil, planErr
	}
	in := sess.Installation()
	var r *upgrade.CheckReport
	var err error
	if path != "" {
		if r, err = sess.Check(ctx, path, true); r == nil {
			return nil, err
		}
	} else {
		// No chain to check a first step of: the plan item says why.
		r = &upgrade.CheckReport{Root: in.Root, Installed: in.Version.String(), Update: plan.Target,
			Service: "unknown", Installation: in,
			Checks: []upgrade.CheckItem{{Name: upgrade.CheckInstallation, OK: true}}}
	}
	var extra []upgrade.CheckItem
	if folder {
		c := upgrade.CheckItem{Name: checkPlan, OK: planErr == nil && len(plan.Steps) > 0, Reason: plan.Reason, Requires: plan.Requires}
		if planErr != nil {
			c.Message = planErr.Error()
		}
		extra = append(extra, c)
		if !c.OK {
			r.Allowed = false
		}
	}
	if s.a.cfg.Elevation != nil {
		c := upgrade.CheckItem{Name: checkRoot, OK: elevated}
		if !elevated {
			c.Reason = upgrade.ReasonNotElevated
		}
		extra = append(extra, c)
	}
	r.Checks = append(extra, r.Checks...)
	if !elevated {
		r.Allowed = false
	}
	if !r.Allowed && err == nil {
		err = r.Err()
	}
	return r, err
}

// pythonTarget is the Python version the package requires, or "".
func (a *App) pythonTarget() string {
	if r := a.report; r != nil && r.Package != nil && r.Package.Manifest != nil {
		return r.Package.Manifest.Requires.Python
	}
	return ""
}

// windowsPythonDir is the folder the Python the update requires goes to on a Windows
// installation (Python311\ for 3.11).
func (a *App) windowsPythonDir() string {
	if a.in == nil {
		return ""
	}
	var paths []string
	if r := a.report; r != nil && r.Package != nil && r.Package.Manifest != nil {
		for _, f := range r.Package.Manifest.Files {
			paths = append(paths, f.Path)
		}
	}
	return a.in.WindowsPythonDir(a.pythonTarget(), paths)
}

// movesPython says whether the check found that the update moves OMFLOW to a newer
// Python.
func (a *App) movesPython() bool {
	if r := a.report; r != nil {
		for _, c := range r.Checks {
			if c.Name == upgrade.CheckPython && c.OK && c.Reason == upgrade.ReasonPythonMove {
				return true
			}
		}
	}
	return false
}

// checkRoot is the wizard's own check of administrator rights; checkPlan the chain
// through a folder of packages.
const (
	checkRoot = "root"
	checkPlan = "plan"
)

// installError marks an installation the check could not read.
type installError struct{ err error }

func (e *installError) Error() string { return e.err.Error() }
func (e *installError) Unwrap() error { return e.err }

// majorMinor is "3.6" of "3.6.8".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// Allowed says whether the check passed: every check, nothing refused.
func (s *checkScreen) allowed() bool {
	r := s.a.report
	if s.running || r == nil || !r.Allowed || s.a.reportErr != nil {
		return false
	}
	for _, c := range r.Checks {
		if !c.OK || s.needsDBBackup(c) {
			return false
		}
	}
	return true
}

// needsDBBackup says c is the database the update's backup cannot hold, not yet backed
// up by the administrator: the update would refuse it.
func (s *checkScreen) needsDBBackup(c upgrade.CheckItem) bool {
	return c.Name == upgrade.CheckDatabase && c.NeedsDBBackedUp
}

// has says the last check reported reason for the check named name.
func (s *checkScreen) has(name string, reason upgrade.Reason) bool {
	if r := s.a.report; r != nil {
		for _, c := range r.Checks {
			if c.Name == name && c.Reason == reason {
				return true
			}
		}
	}
	return false
}

// relabelChoices shows the administrator's choices a check asks for: a database backed
// up by hand, which config files win a conflict.
func (s *checkScreen) relabelChoices() {
	a := s.a
	s.dbBackedUp.Text = a.t("check.choice.databaseBackedUp", nil)
	s.dbBackedUp.Checked = a.cfg.DBBackedUp
	s.dbBackedUp.Refresh()
	setVisible(s.dbBackedUp, a.cfg.DBBackedUp || s.has(upgrade.CheckDatabase, upgrade.ReasonDatabaseNotBackedUp))
	keep, replace := a.t("check.choice.configKeep", nil), a.t("check.choice.configNew", nil)
	s.configChoice.Options = []string{keep, replace}
	switch a.cfg.ConfigChoice {
	case "keep":
		s.configChoice.Selected = keep
	case "new":
		s.configChoice.Selected = replace
	default:
		s.configChoice.Selected = ""
	}
	s.configChoice.Refresh()
	setVisible(s.configChoice, a.cfg.ConfigChoice != "" || s.has(upgrade.CheckConfig, upgrade.ReasonConfigConflict))
	// The move installs the old Python's packages into the new one (Linux: a new venv;
	// Windows: Python311\): online, or from a folder of wheels on a server without the
	// internet.
	if a.cfg.Wheels == "" {
		s.wheels.SetText(a.t("check.wheels.online", nil))
	} else {
		s.wheels.SetText(a.t("check.wheels.folder", map[string]any{"Path": a.cfg.Wheels}))
	}
	s.wheelsButton.SetText(a.t("python.installFolder", nil))
	setVisible(s.wheelsBox, a.movesPython())
}

// chooseWheels asks for the folder of wheels the Python move installs from.
func (s *checkScreen) chooseWheels() {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			s.a.cfg.Wheels = u.Path()
			s.relabelChoices()
		}
	}, s.a.win)
	d.Resize(fyne.NewSize(700, 500))
	d.Show()
}

func (s *checkScreen) relabel() {
	a := s.a
	s.step.SetTitle(a.t("check.title", nil))
	s.step.SetNextLabel(a.t("check.next", nil))
	s.intro.SetText(a.t("check.intro", nil))
	s.again.SetText(a.t("check.again", nil))
	setEnabled(s.again, !s.running && a.loaded)
	s.logPath.SetText(a.t("app.log.path", map[string]any{"Path": a.LogPath()}))
	s.allowUnsigned.Text = a.t("check.signature.allowUnsigned", nil)
	s.allowUnsigned.Checked = a.cfg.AllowUnsigned
	s.allowUnsigned.Refresh()
	s.relabelChoices()
	s.relabelFacts()
	s.relabelConfig()
	if s.running {
		s.details.set(nil)
	} else {
		s.details.set(a.report)
	}

	r, err := a.report, a.reportErr
	s.checks.Clear()
	switch {
	case s.running || (r == nil && err == nil):
		s.summary.SetText(a.t("check.running", nil))
		setImportance(s.summary, widget.MediumImportance)
	case r == nil:
		name, detail := s.unusable(err)
		s.checks.Set(name, a.checkTitle(name), wizard.Failed, detail)
		s.summary.SetText(a.Plural("check.failedCount", 1))
		setImportance(s.summary, widget.DangerImportance)
	default:
		// Failed checks first, then warnings: what needs the administrator is in sight
		// without scrolling.
		failed := 0
		for _, want := range []wizard.State{wizard.Failed, wizard.Warning, wizard.Passed} {
			for _, c := range r.Checks {
				title, detail, state := s.item(c)
				if state != want {
					continue
				}
				if state == wizard.Failed {
					failed++
				}
				s.checks.Set(c.Name, title, state, detail)
			}
		}
		if s.allowed() {
			s.summary.SetText(a.t("check.allPassed", nil))
			setImportance(s.summary, widget.SuccessImportance)
		} else {
			s.summary.SetText(a.Plural("check.failedCount", max(failed, 1)))
			setImportance(s.summary, widget.DangerImportance)
		}
	}
	s.step.SetNextEnabled(s.allowed())
	// The checklist changes its items through fyne.Do: lay the box out again after them.
	s.a.relayout(s.step, s.body)
}

// Plural is the message id in the plural form for count.
func (a *App) Plural(id string, count int) string { return a.loc.Plural(id, count, nil) }

// relabelFacts fills the two boxes: the installed OMFLOW and the update.
func (s *checkScreen) relabelFacts() {
	a := s.a
	s.installedHead.SetText(a.t("check.installed.heading", nil))
	s.updateHead.SetText(a.t("check.package.heading", nil))
	root, ver, state := a.cfg.Root, "", "unknown"
	if a.in != nil {
		root, ver = a.in.Root, a.in.Version.String()
	}
	if r := a.report; r != nil {
		root, ver, state = r.Root, r.Installed, r.Service
	}
	if root == "" {
		root = install.DefaultRoot()
	}
	s.instRoot.SetText(a.t("check.installed.root", map[string]any{"Root": root}))
	s.instVersion.SetText(a.t("check.installed.version", map[string]any{"Version": ver}))
	s.instService.SetText(a.t("check.installed.service", map[string]any{"State": a.stateName(state)}))

	s.updFile.SetText(a.t("check.package.file", map[string]any{"Path": a.cfg.Package}))
	p := a.pkg
	if p == nil {
		s.updVersion.SetText(a.t("check.package.version", map[string]any{"Version": ""}))
		s.updSig.SetText("")
		s.updExtra.SetText("")
		s.allowUnsigned.Hide()
		return
	}
	shown := p.Version()
	if p.Legacy != nil {
		shown = p.Legacy.Display() // the name's label beside the version
	}
	s.updVersion.SetText(a.t("check.package.version", map[string]any{"Version": shown}))
	sig := p.Signature
	var sigErr *pkg.SignatureError
	refused := errors.As(a.reportErr, &sigErr) && a.report == nil
	switch {
	case sig == pkg.SigVerified:
		s.updSig.SetText(a.t("check.signature.verified", nil))
		setImportance(s.updSig, widget.SuccessImportance)
	case sig == pkg.SigInvalid:
		s.updSig.SetText(a.t("check.signature.invalid", nil))
		setImportance(s.updSig, widget.DangerImportance)
	case sig == pkg.SigRefused:
		s.updSig.SetText(a.t("check.signature.refused", nil))
		setImportance(s.updSig, widget.DangerImportance)
	case refused || !a.cfg.AllowUnsigned:
		s.updSig.SetText(a.t("check.signature.unsignedRefused", nil))
		setImportance(s.updSig, widget.DangerImportance)
	default:
		s.updSig.SetText(a.t("check.signature.unsignedAllowed", nil))
		setImportance(s.updSig, widget.DangerImportance)
	}
	setVisible(s.allowUnsigned, sig != pkg.SigVerified && sig != pkg.SigRefused) // allowing unsigned lifts no keys-document refusal
	var extra []string
	if p.Legacy != nil {
		extra = append(extra, a.t("check.package.legacy", nil))
	}
	if m := p.Manifest; m != nil {
		if m.From != "" {
			extra = append(extra, a.t("check.package.from", map[string]any{"From": m.From}))
		}
		if m.Requires.Python != "" {
			extra = append(extra, a.t("check.package.python", map[string]any{"Python": m.Requires.Python}))
		}
	}
	s.updExtra.SetText(strings.Join(extra, "\n"))
	setVisible(s.updExtra, len(extra) > 0)
}
