package app

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
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
	sess, sessErr := a.session(context.Background())
	log := a.log
	path := a.cfg.Package
	elevated, folder := a.elevated, a.folder
	go func() {
		var plan *upgrade.PlanReport
		var planErr error
		if folder && sess != nil {
			plan, planErr = sess.Plan(context.Background(), path, "")
			path = ""
			if plan != nil && len(plan.Steps) > 0 {
				path = plan.Steps[0].Package
			}
		}
		r, err := s.checkNow(sess, sessErr, path, elevated, folder, plan, planErr)
		diffs, derr := configDiffs(context.Background(), r)
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
	ctx := context.Background()
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

// stateName translates a service state ("running", "stopped", "unknown").
func (a *App) stateName(state string) string {
	switch state {
	case "running":
		return a.t("check.state.running", nil)
	case "stopped":
		return a.t("check.state.stopped", nil)
	}
	return a.t("check.state.unknown", nil)
}

// checkNames are the message ids of the checks' titles.
var checkNames = map[string]string{
	checkRoot:                 "check.name.root",
	upgrade.CheckInstallation: "check.name.installation",
	upgrade.CheckService:      "check.name.service",
	upgrade.CheckPackage:      "check.name.package",
	upgrade.CheckSignature:    "check.name.signature",
	upgrade.CheckVersion:      "check.name.version",
	upgrade.CheckPending:      "check.name.pending",
	upgrade.CheckLock:         "check.name.lock",
	upgrade.CheckDiskSpace:    "check.name.diskSpace",
	upgrade.CheckPython:       "check.name.python",
	upgrade.CheckDatabase:     "check.name.database",
	upgrade.CheckConfig:       "check.name.config",
	upgrade.CheckReboot:       "check.name.reboot",
	upgrade.CheckInUse:        "check.name.filesInUse",
	upgrade.CheckSchema:       "check.name.schema",
}

// checkTitle is a check's title; a check the wizard has no words for shows the core's
// name.
func (a *App) checkTitle(name string) string {
	if id, ok := checkNames[name]; ok {
		return a.t(id, nil)
	}
	return name
}

// unusable names the check that an error without a report belongs to and says why.
func (s *checkScreen) unusable(err error) (name, detail string) {
	a := s.a
	var ie *installError
	var se *pkg.SignatureError
	switch {
	case errors.As(err, &ie):
		root := a.cfg.Root
		if root == "" {
			root = install.DefaultRoot()
		}
		return "installation", a.t("check.refused.notInstalled", map[string]any{"Root": root, "Error": ie.err.Error()})
	case errors.As(err, &se) && se.State == pkg.SigInvalid:
		return "signature", a.t("check.refused.signatureInvalid", nil)
	case errors.As(err, &se):
		return "signature", a.t("check.refused.unsigned", nil)
	}
	return "package", a.t("check.refused.badPackage", map[string]any{"Error": err.Error()})
}

// item translates one check by its name and reason code; a check the wizard has no
// words for shows the core's own message.
func (s *checkScreen) item(c upgrade.CheckItem) (title, detail string, state wizard.State) {
	a := s.a
	r := a.report
	title = a.checkTitle(c.Name)
	state = wizard.Passed
	switch {
	case !c.OK:
		state = wizard.Failed
	case c.Warning:
		state = wizard.Warning
	}
	from := ""
	if r.Package != nil && r.Package.Manifest != nil {
		from = r.Package.Manifest.From
	}
	vers := map[string]any{"Update": r.Update, "Installed": r.Installed, "Requires": c.Requires,
		"From": from, "Version": r.Installed, "Root": r.Root}
	key := ""
	switch c.Name {
	case checkPlan:
		return a.t("check.plan.heading", nil), a.planText(c), state
	case checkRoot:
		key = pick(c.OK, "check.ok.root", "check.refused.notRoot")
	case upgrade.CheckInstallation:
		key = "check.ok.installation"
	case upgrade.CheckService:
		key = pick(c.Warning, "check.warn.serviceUnknown", "check.ok.service")
		vers["State"] = a.stateName(r.Service)
	case upgrade.CheckPackage:
		if !c.OK {
			return title, a.t("check.refused.legacyPatch", nil) + "\n" + c.Message, state
		}
		key = pick(c.Warning, "check.warn.legacy", "check.ok.package")
	case upgrade.CheckSignature:
		key = pick(c.Warning, "check.warn.unsigned", "check.ok.signature")
	case upgrade.CheckTrust:
		key = trustText(r, c, vers)
	case upgrade.CheckVersion:
		key = versionKeys[c.Reason]
		vers["Error"] = c.Message
	case upgrade.CheckPending:
		key = pick(c.OK, "check.ok.pending", "check.refused.pending")
	case upgrade.CheckLock:
		key = pick(c.OK, "check.ok.lock", "check.refused.lockHeld")
		vers["Holder"] = c.Holder
	case upgrade.CheckDiskSpace:
		key = pick(c.OK, "check.space.ok", "check.space.refused")
		vers["Error"] = c.Message
		vers["Needed"] = humanBytes(c.Bytes)
	case upgrade.CheckDatabase:
		switch {
		case s.needsDBBackup(c):
			state = wizard.Failed
			key = "check.refused.database"
			// django.db.backends.postgresql: the last word is the name people know.
			vers["Engine"] = c.Engine[strings.LastIndex(c.Engine, ".")+1:]
		case c.Reason == upgrade.ReasonDatabaseNotBackedUp:
			key = "check.choice.databaseBackedUp"
		case c.OK && !c.Warning:
			key = "check.ok.database"
		case c.Reason == upgrade.ReasonDatabaseUnknown:
			key = "check.warn.databaseUnknown"
		}
	case upgrade.CheckConfig:
		vers["Files"] = strings.Join(configFiles(r, "conflict"), ", ")
		switch {
		case !c.OK && c.Reason == upgrade.ReasonConfigConflict:
			key = "check.refused.configConflict"
		case c.OK && len(configFiles(r, "merged")) > 0:
			key = "check.ok.configMerged"
			vers["Files"] = strings.Join(configFiles(r, "merged"), ", ")
		case c.OK:
			key = "check.ok.config"
		}
	case upgrade.CheckSchema:
		return title, s.schemaText(c), state
	case upgrade.CheckPython:
		vers["Version"] = a.pythonTarget()
		vers["Path"] = "/usr/bin"
		windows := r.Installation != nil && r.Installation.Layout == install.Windows
		if windows {
			vers["Path"] = a.windowsPythonDir()
		}
		switch {
		case windows && (c.OK && c.Reason == upgrade.ReasonPythonMove || c.Reason == upgrade.ReasonPythonMissing):
			// The core's text says which Python (version, 32 or 64 bits) goes where, and
			// which packages apply installs into it: it follows the sentence.
			key = "check.ok.pythonMove"
			if !c.OK {
				key = "check.refused.python"
			}
			return title, a.t(key, vers) + "\n" + c.Message, state
		case c.Reason == upgrade.ReasonPythonBitness:
			return title, a.t("check.refused.pythonBitness", vers) + "\n" + c.Message, state
		case c.OK && c.Reason == upgrade.ReasonPythonMove:
			key = "check.ok.pythonMove"
		case c.OK:
			key = "check.ok.python"
		case c.Reason == upgrade.ReasonPythonMissing:
			key = "check.refused.python"
		case c.Reason == upgrade.ReasonPythonNoVenv:
			key = "check.refused.pythonVenv"
		case c.Reason == upgrade.ReasonPackagesMissing:
			// The core's text holds the exact command: it follows the sentence.
			return title, a.t("check.refused.pythonPackages", nil) + "\n" + c.Message, state
		}
	}
	if key == "" {
		// No words of ours for it: say so in the language in use, then the core's text.
		switch state {
		case wizard.Failed:
			return title, a.t("check.refused.unknown", nil) + "\n" + c.Message, state
		case wizard.Warning:
			return title, a.t("check.warn.unknown", nil) + "\n" + c.Message, state
		}
		return title, c.Message, state
	}
	return title, a.t(key, vers), state
}

// schemaText says what the update does to the site's database, tried on a copy, and
// under it the names of what it adds (names are the database's, not translated); a
// refusal, and the core's text with Django's own error.
func (s *checkScreen) schemaText(c upgrade.CheckItem) string {
	a := s.a
	switch {
	case !c.OK && c.Reason == upgrade.ReasonSchemaUnsafe:
		return a.t("check.refused.schemaUnsafe", nil) + "\n" + c.Message
	case !c.OK:
		return a.t("check.refused.newCodeFails", nil) + "\n" + c.Message
	}
	db := a.report.Database
	if db == nil || db.Empty() {
		return a.t("check.ok.schemaNone", nil)
	}
	var rows int64
	var names []string
	for _, t := range db.Tables {
		rows += t.Rows
		names = append(names, t.Name)
	}
	for _, col := range db.Columns {
		names = append(names, col.Table+"."+col.Column)
	}
	for _, ix := range db.Indexes {
		names = append(names, ix.Name)
	}
	names = append(names, db.Migrations...)
	return a.t("check.ok.schema", map[string]any{"Tables": len(db.Tables), "Rows": rows, "Columns": len(db.Columns),
		"Indexes": len(db.Indexes), "Migrations": len(db.Migrations) + len(db.Recorded)}) + "\n" + strings.Join(names, "\n")
}

// trustText picks the words for the keys document's check and fills their values.
func trustText(r *upgrade.CheckReport, c upgrade.CheckItem, vers map[string]any) string {
	v := r.Package.Trust
	if v == nil {
		return ""
	}
	vers["Key"], vers["End"] = r.Package.KeyID, pkg.DirectSignaturesEnd
	if v.Doc != nil {
		d := v.Doc.Doc
		// On a rollback refusal the ruling document is the kept one.
		vers["Serial"], vers["Kept"], vers["Floor"] = d.Serial, d.Serial, d.MinVersion
		if k, _, ok := d.Find(keyID(v.KeyID)); ok {
			vers["Until"] = k.NotAfterTime().Format("2006-01-02")
		}
	}
	switch {
	case c.OK && c.Reason == upgrade.ReasonKeysMissing:
		return "check.warn.keysMissing"
	case c.OK:
		return "check.ok.trust"
	}
	return trustKeys[c.Reason]
}

// keyID reads a key id as minisign prints it.
func keyID(s string) uint64 { n, _ := strconv.ParseUint(s, 16, 64); return n }

// trustKeys translate the keys document's refusals (upgrade/trust).
var trustKeys = map[upgrade.Reason]string{
	upgrade.ReasonKeyExpired:     "check.refused.keyExpired",
	upgrade.ReasonKeyRevoked:     "check.refused.keyRevoked",
	upgrade.ReasonPackageRevoked: "check.refused.packageRevoked",
	upgrade.ReasonBelowFloor:     "check.refused.belowFloor",
	upgrade.ReasonKeysRollback:   "check.refused.keysRollback",
}

// versionKeys translate the version rule's reason codes (upgrade/version/gate.go).
var versionKeys = map[upgrade.Reason]string{
	upgrade.ReasonFixRelease:        "check.ok.versionFix",
	upgrade.ReasonFeatureRelease:    "check.ok.versionFeature",
	upgrade.ReasonClimb:             "check.ok.versionClimb",
	upgrade.ReasonFromLine:          "check.ok.versionFromLine",
	upgrade.ReasonAlreadyInstalled:  "check.refused.alreadyInstalled",
	upgrade.ReasonDowngrade:         "check.refused.downgrade",
	upgrade.ReasonNeedsFirstRelease: "check.refused.needsFirstRelease",
	upgrade.ReasonNeedsStepping:     "check.refused.needs1140",
	upgrade.ReasonNeedsFromLine:     "check.refused.needsFromLine",
	upgrade.ReasonFromMismatch:      "check.refused.fromMismatch",
	upgrade.ReasonBadVersion:        "check.refused.badVersion",
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// humanBytes is n in binary units, as the core writes them.
var humanBytes = upgrade.HumanBytes

// planText says which versions the chain installs, or why there is none, and which files
// of the folder were left out.
func (a *App) planText(c upgrade.CheckItem) string {
	p := a.plan
	var lines []string
	if c.OK {
		var path []string
		for _, st := range p.Steps {
			path = append(path, st.Version)
		}
		lines = append(lines, a.t("check.plan.path", map[string]any{"Installed": p.Installed, "Target": p.Target,
			"Path": p.Installed + " → " + strings.Join(path, " → ")}),
			a.loc.Plural("check.plan.hops", len(p.Steps), nil))
	} else {
		lines = append(lines, a.planProblem())
	}
	if p != nil {
		for _, sk := range p.Skipped {
			lines = append(lines, a.t("check.plan.skipped", map[string]any{"Package": filepath.Base(sk.Package), "Reason": sk.Reason}))
		}
	}
	return strings.Join(lines, "\n")
}

// planProblem says why a folder of packages gives no chain.
func (a *App) planProblem() string {
	p := a.plan
	switch {
	case p != nil && p.Requires != "":
		return a.t("check.plan.missing", map[string]any{"Requires": p.Requires})
	case a.planErr != nil:
		return a.t("check.refused.badPackage", map[string]any{"Error": a.planErr.Error()})
	case p != nil:
		return a.t("check.refused.alreadyInstalled", map[string]any{"Version": p.Installed})
	}
	return a.t("license.package.loading", nil)
}

// configFiles are the config files of the report with the given result.
func configFiles(r *upgrade.CheckReport, result string) []string {
	var out []string
	for _, c := range r.Config {
		if c.Result == result {
			out = append(out, c.Path)
		}
	}
	return out
}
