package app

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade/pyenv"
	"omflow-upgrade/wizard"
)

// pythonScreen is shown only when the update moved OMFLOW to a newer Python: it compares
// the old Python (on Linux the venv the update put into its backup, on Windows Python\)
// with the new one (the new venv, or Python311\; the administrator may point elsewhere),
// lists each missing package with its old version and the exact install command,
// installs them (online or from a folder of wheels) or saves the list as
// requirements.txt, and checks again until nothing is missing. The core's check has
// already refused an update whose new Python is missing (and, on Windows, one whose
// Python311\ lacks packages), so this is the last look before OMFLOW runs on it.
type pythonScreen struct {
	a    *App
	step *wizard.Step

	intro, old, newLabel, status, missing, command, commandText *widget.Label
	newPath                                                     *widget.Entry
	body                                                        *fyne.Container
	scroll                                                      *container.Scroll
	again, online, folder, save                                 *widget.Button

	busy      bool
	settled   atomic.Bool // a comparison is on the screen (tests wait for it)
	report    *pyenv.Report
	oldPython string
	err       error
}

func newPythonScreen(a *App) *pythonScreen {
	s := &pythonScreen{a: a}
	s.intro, s.old, s.newLabel = wrapped(""), wrapped(""), wrapped("")
	s.status, s.missing, s.command = bold(""), wrapped(""), wrapped("")
	s.commandText = wrapped("")
	s.commandText.Selectable = true
	s.commandText.TextStyle.Monospace = true
	s.newPath = widget.NewEntry()
	s.again = widget.NewButton("", s.compare)
	s.online = widget.NewButton("", func() { s.install("") })
	s.folder = widget.NewButton("", s.chooseFolder)
	s.save = widget.NewButton("", s.saveRequirements)
	buttons := container.NewGridWithColumns(2, s.again, s.online, s.folder, s.save)
	s.body = container.NewVBox(s.intro, s.old, s.newLabel, s.newPath, s.status, s.missing, s.command, s.commandText)
	s.scroll = container.NewVScroll(s.body)
	s.step = &wizard.Step{
		NoBack: true,
		Skip:   func() bool { return !s.shown() },
		// Everything that wraps scrolls: long paths take the lines they need.
		Content: container.NewBorder(nil, buttons, nil, nil, s.scroll),
		OnEnter: func() {
			if s.newPath.Text == "" {
				s.newPath.SetText(s.defaultNew())
			}
			s.compare()
		},
	}
	s.relabel()
	return s
}

// shown says whether the screen takes part: the check found a move to a newer Python
// and the update went through. Before the update ends it is listed, not skipped.
func (s *pythonScreen) shown() bool {
	a := s.a
	return a.movesPython() && (!a.update.finished || a.applyErr == nil)
}

// oldDir is the old Python: the venv the update moved into its backup (Linux), else
// the installation's own Python folder.
func (s *pythonScreen) oldDir() string {
	a := s.a
	if a.in == nil {
		return ""
	}
	if a.oldPythonDir != "" {
		// Windows: the Python httpd.conf loaded before the update (Python\); after it,
		// the installation's Python is the new one.
		return a.oldPythonDir
	}
	if a.applied != nil && a.applied.Backup != "" {
		moved := filepath.Join(a.applied.Backup, "python-rebuild", "python")
		if _, err := os.Stat(moved); err == nil {
			return moved
		}
	}
	return a.in.PythonDir()
}

// defaultNew is the new Python: Python311\ beside the old one on Windows, the rebuilt
// venv on Linux.
func (s *pythonScreen) defaultNew() string {
	a := s.a
	if a.in == nil {
		return ""
	}
	if a.cfg.GOOS == "windows" {
		return a.windowsPythonDir()
	}
	return a.in.PythonDir()
}

func (s *pythonScreen) relabel() {
	a := s.a
	s.step.SetTitle(a.t("python.title", nil))
	v := a.pythonTarget()
	s.intro.SetText(a.t("python.intro", map[string]any{"Version": v}))
	oldPath := s.oldDir()
	s.old.SetText(a.t("python.old", map[string]any{"Path": oldPath, "Version": s.oldPython}))
	s.newLabel.SetText(a.t("python.field.newPath", nil))
	s.again.SetText(a.t("python.checkAgain", nil))
	s.online.SetText(a.t("python.installOnline", nil))
	s.folder.SetText(a.t("python.installFolder", nil))
	s.save.SetText(a.t("python.saveRequirements", nil))
	r := s.report
	missing := r != nil && len(r.Missing) > 0
	for _, b := range []*widget.Button{s.online, s.folder, s.save} {
		setEnabled(b, missing && !s.busy)
	}
	setEnabled(s.again, !s.busy)
	s.missing.SetText("")
	s.command.SetText("")
	s.commandText.SetText("")
	switch {
	case s.busy:
		s.status.SetText(a.t("python.installing", nil))
		setImportance(s.status, widget.MediumImportance)
	case s.err != nil:
		s.status.SetText(a.t("python.notFound", map[string]any{"Version": v, "Path": s.newPath.Text}) + "\n" + s.err.Error())
		setImportance(s.status, widget.DangerImportance)
	case r == nil:
		s.status.SetText("")
	case !missing:
		s.status.SetText(a.t("python.nothingMissing", nil))
		setImportance(s.status, widget.SuccessImportance)
	default:
		s.status.SetText(a.loc.Plural("python.missingCount", len(r.Missing), nil))
		setImportance(s.status, widget.DangerImportance)
		var lines []string
		for _, p := range r.Missing {
			lines = append(lines, "• "+a.t("python.missingItem", map[string]any{"Name": p.Name, "Version": p.Version}))
		}
		s.missing.SetText(strings.Join(lines, "\n"))
		s.command.SetText(a.t("python.command", nil))
		s.commandText.SetText(r.Command)
	}
	s.step.SetNextEnabled(!s.busy && r != nil && !missing && s.err == nil)
	s.a.relayout(s.step, s.body, s.scroll)
}

// compare reads both environments and lists what the new one lacks.
func (s *pythonScreen) compare() {
	a := s.a
	if a.in == nil || s.busy {
		return
	}
	s.busy = true
	s.settled.Store(false)
	s.relabel()
	oldDir, newPath, goos, log := s.oldDir(), s.newPath.Text, a.cfg.GOOS, a.log
	go func() {
		ctx := a.ctx
		o := pyenv.Options{Logf: log.Logf}
		var rep *pyenv.Report
		oldEnv, err := pyenv.Open(ctx, oldDir, o)
		var newEnv *pyenv.Env
		if err == nil {
			newEnv, err = pyenv.Open(ctx, newPath, o)
		}
		oldPython := ""
		if oldEnv != nil {
			oldPython = oldEnv.Python
		}
		if err == nil {
			r := pyenv.NewReport(oldEnv, newEnv, goos)
			rep = &r
			log.Logf("python: %d packages missing in %s", len(r.Missing), newPath)
		} else {
			log.Logf("python: %v", err)
		}
		fyne.Do(func() {
			s.busy = false
			s.report, s.err, s.oldPython = rep, err, oldPython
			s.relabel()
			s.settled.Store(true)
		})
	}()
}

// install installs the missing packages with the new interpreter's pip (from the
// folder of wheels findLinks, or online), then compares again.
func (s *pythonScreen) install(findLinks string) {
	a := s.a
	r := s.report
	if r == nil || len(r.Missing) == 0 || s.busy {
		return
	}
	s.busy = true
	s.relabel()
	// The interpreter: the one given, or the one that owns the new site-packages folder.
	python := r.New.Interpreter
	if python == "" && len(r.New.SitePackages) > 0 {
		python = pyenv.InterpreterOf(r.New.SitePackages[0], a.cfg.GOOS)
	}
	pkgs, log := r.Missing, a.log
	go func() {
		res, err := pyenv.Install(a.ctx, python, pkgs, pyenv.InstallOptions{FindLinks: findLinks, Logf: log.Logf})
		log.Logf("python install: %d installed, %d failed, %v", len(res.Installed), len(res.Failed), err)
		fyne.Do(func() {
			s.busy = false
			if err != nil {
				a.showError(a.t("error.pythonInstall", nil), err, a.loc.Plural("python.failedCount", max(len(res.Failed), 1), nil))
			}
			s.compare()
		})
	}()
}

func (s *pythonScreen) chooseFolder() {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			s.install(u.Path())
		}
	}, s.a.win)
	d.Resize(fyne.NewSize(700, 500))
	d.Show()
}

// saveRequirements writes the missing packages as requirements.txt, one name==version
// a line.
func (s *pythonScreen) saveRequirements() {
	a := s.a
	r := s.report
	if r == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		if err := os.WriteFile(path, []byte(requirements(r.Missing)), 0o644); err != nil {
			a.showError(a.t("error.save", nil), err, a.t("error.keptNothing", nil))
			return
		}
		s.command.SetText(a.t("python.saved", map[string]any{"Path": path}))
	}, a.win)
	d.SetFileName("requirements.txt")
	d.Resize(fyne.NewSize(700, 500))
	d.Show()
}

// requirements is a requirements.txt of pkgs.
func requirements(pkgs []pyenv.Package) string {
	var b strings.Builder
	for _, p := range pkgs {
		b.WriteString(p.Requirement())
		b.WriteByte('\n')
	}
	return b.String()
}
