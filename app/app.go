// Package app is the OMFLOW Upgrade Wizard's screens: language, license, compatibility
// check, update, Python packages (only when the update moves OMFLOW to a new Python) and
// restart (SPEC section 3). It wires the generic wizard (package wizard) to the headless
// core (package upgrade) and the translations (package i18n). Every text a user reads
// comes from the Localizer in use, so a change of language relabels every screen at once.
package app

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"omflow-upgrade/assets"
	"omflow-upgrade/i18n"
	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/elevate"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/runlog"
	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/wizard"
)

// Config says what the wizard works on.
type Config struct {
	// Options are the core's: the installation (Root, "" the platform's default;
	// Override, settings that win over its omflow-upgrade.json), the trusted key, and
	// the check screen's choices as they start (AllowUnsigned, DBBackedUp,
	// ConfigChoice, Wheels: the check screen has a box for each). The wizard sets Log.
	upgrade.Options
	// Package is the update package; "" lets the user choose one on the license screen.
	Package string
	// Language is the code of the language preselected; "" is the OS locale's.
	Language string
	// Elevation, when set, is asked whether the wizard has the rights an upgrade needs;
	// without them the first screen says so and Next stays disabled. nil skips the
	// question (a demo installation in the user's own folder).
	Elevation elevate.Elevation
	// Relaunch is the command line that starts the wizard again as administrator
	// (pkexec ...); nil when there is none.
	Relaunch []string
	// Start runs Relaunch; nil starts it as a new process and quits this one.
	Start func(argv []string) error
	// GOOS is the system the install commands are written for; "" is this one.
	GOOS string
	// Quit ends the program (Finish, Cancel, a relaunch); nil closes the window.
	Quit func()
	// DeferLoad leaves the look at the installation and the package (detection, the
	// run's log, the status, the package's signature check) until the window has drawn
	// its first frame, so that the window is up before that work starts. The program
	// sets it; tests leave it false and the look starts at once.
	DeferLoad bool
}

// App is the wizard for one installation and one package.
type App struct {
	cfg    Config
	bundle *i18n.Bundle
	loc    *i18n.Localizer
	win    fyne.Window
	wz     *wizard.Wizard
	// content is what Content returns: the wizard, under a frame probe with DeferLoad.
	content fyne.CanvasObject

	// shown is the step on the screen; laidOut holds, per step not shown, the objects
	// its screen asked to lay out again (see relayout), for when it is shown.
	shown   *wizard.Step
	laidOut map[*wizard.Step][]fyne.CanvasObject

	lang    *languageScreen
	license *licenseScreen
	check   *checkScreen
	update  *updateScreen
	python  *pythonScreen
	restart *restartScreen

	// What the wizard found and did. Written on the UI goroutine only.
	loaded  bool // the start-up look at installation and package is done
	settled atomic.Bool
	in      *install.Installation
	inErr   error
	// ctx is the window's: quitting cancels what still runs in the background.
	ctx    context.Context
	cancel context.CancelFunc
	// sess is the session on the installation, opened once at the start; nil when
	// there is none (inErr says why).
	sess     *upgrade.Session
	log      *runlog.Log
	elevated bool
	pending  *upgrade.Pending
	// lastBackup is the newest kept backup not yet undone: the update a rollback undoes.
	lastBackup *upgrade.Backup
	pkg        *pkg.Package
	pkgErr     error
	report     *upgrade.CheckReport
	reportErr  error
	// configDiffs are the config files both sides changed, by path, for the difference
	// view (computed with the report).
	configDiffs map[string]*configDiff
	applied     *upgrade.ApplyReport
	// oldPythonDir is the Windows Python OMFLOW ran on at the check (Python\): after a
	// move, the installation's Python is the new one.
	oldPythonDir string
	applyErr     error

	// A folder of packages instead of one (SPEC 4.7): the chain planned through it,
	// checked on the check screen and walked on Update.
	folder  bool
	plan    *upgrade.PlanReport
	planErr error
	chain   *upgrade.ChainReport
}

// Theme is the wizard's theme: Fyne's default, with the embedded CJK font so that
// Chinese and Japanese render on a machine that has no CJK font installed.
func Theme() fyne.Theme {
	return wizard.NewFontTheme(nil, fyne.NewStaticResource(assets.CJKFontName, assets.CJKFont))
}

// ReadFonts reads the fonts of the first screen's texts (the embedded CJK font, Fyne's
// regular and bold) into Fyne's font cache on a goroutine of its own; the channel closes
// when that is done. The program starts it with the theme set and makes the window
// meanwhile, then waits for it before New: the start-up's two longest pieces of work
// run side by side, on two cores. Nothing else may measure text until it is done.
func ReadFonts() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
			fyne.MeasureText("漢A", theme.TextSize(), style)
		}
	}()
	return done
}

// New builds the wizard in win and starts looking at the installation and the package
// in the background. Set Content as the window's content.
func New(win fyne.Window, cfg Config) *App {
	if cfg.GOOS == "" {
		cfg.GOOS = runtime.GOOS
	}
	if cfg.Language == "" {
		cfg.Language = i18n.Detect()
	}
	a := &App{cfg: cfg, bundle: i18n.MustLoad(), win: win, elevated: true,
		laidOut: map[*wizard.Step][]fyne.CanvasObject{}}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.loc = a.bundle.Localizer(cfg.Language)
	a.lang = newLanguageScreen(a)
	a.license = newLicenseScreen(a)
	a.check = newCheckScreen(a)
	a.update = newUpdateScreen(a)
	a.python = newPythonScreen(a)
	a.restart = newRestartScreen(a)
	steps := []*wizard.Step{a.lang.step, a.license.step, a.check.step, a.update.step, a.python.step, a.restart.step}
	for _, st := range steps {
		enter := st.OnEnter
		st.OnEnter = func() {
			a.shown = st
			a.layOutShown()
			if enter != nil {
				enter()
			}
		}
	}
	a.wz = wizard.New(win, a.labels(), steps...)
	a.wz.OnFinish = a.quit
	a.wz.OnCancel = a.quit
	win.SetTitle(a.t("app.title", nil))
	a.content = a.wz
	if cfg.DeferLoad {
		a.content = container.NewStack(a.wz, wizard.NewFrameProbe(func() { go a.load(cfg.Package) }))
	} else {
		go a.load(cfg.Package)
	}
	return a
}

// Content is the wizard, to set as the window's content.
func (a *App) Content() fyne.CanvasObject { return a.content }

// Wizard is the generic wizard the screens run in (tests, screenshots).
func (a *App) Wizard() *wizard.Wizard { return a.wz }

// Language is the code of the language in use.
func (a *App) Language() string { return a.loc.Language().Code }

// LogPath is the run's log file, once the wizard has opened it.
func (a *App) LogPath() string {
	if a.log == nil {
		return ""
	}
	return a.log.Path
}

func (a *App) t(id string, data map[string]any) string { return a.loc.T(id, data) }

func (a *App) quit() {
	if a.log != nil {
		a.log.Logf("wizard closed")
	}
	a.cancel()
	if a.cfg.Quit != nil {
		a.cfg.Quit()
		return
	}
	a.win.Close()
}

func (a *App) labels() wizard.Labels {
	return wizard.Labels{
		Back: a.t("wizard.back", nil), Next: a.t("wizard.next", nil), Finish: a.t("wizard.finish", nil),
		Cancel: a.t("wizard.cancel", nil), Yes: a.t("wizard.yes", nil), No: a.t("wizard.no", nil),
		Close:     a.t("wizard.close", nil),
		QuitTitle: a.t("wizard.quitTitle", nil), QuitMessage: a.t("wizard.quitMessage", nil),
		StopTitle: a.t("wizard.stopTitle", nil), StopMessage: a.t("wizard.stopMessage", nil),
	}
}

// SetLanguage switches every text of every screen to the language code at once.
func (a *App) SetLanguage(code string) {
	if code == a.loc.Language().Code {
		return
	}
	a.loc = a.bundle.Localizer(code)
	if a.log != nil {
		a.log.Logf("language: %s", a.loc.Language().Code)
	}
	a.relabel()
}

// relabel redraws every text from the state in the language in use.
func (a *App) relabel() {
	a.win.SetTitle(a.t("app.title", nil))
	a.wz.Relabel(a.labels())
	for _, s := range []screen{a.lang, a.license, a.check, a.update, a.python, a.restart} {
		s.relabel()
	}
	a.wz.Refresh()
}

// screen is one screen of the wizard: its step, and a way to redraw its texts.
type screen interface {
	relabel()
}

// options are the core's options for this run.
func (a *App) options() upgrade.Options {
	opt := a.cfg.Options
	opt.Log = a.log
	return opt
}

// session is the wizard's session with the options of now (the check screen's choices
// change them). Without an installation found at the start it looks again, for the
// error. Call it on the UI goroutine.
func (a *App) session(ctx context.Context) (*upgrade.Session, error) {
	opt := a.options()
	if a.sess == nil {
		return upgrade.Open(ctx, opt)
	}
	return a.sess.With(func(o *upgrade.Options) { *o = opt }), nil
}

// load finds the installation, opens the run's log, asks whether an earlier run waits
// for recovery and opens the package, then shows what it found. It runs off the UI
// goroutine.
func (a *App) load(pkgPath string) {
	ctx := a.ctx
	sess, inErr := upgrade.Open(ctx, a.options())
	var in *install.Installation
	logDir := ""
	if sess != nil {
		in = sess.Installation()
		logDir = in.LogsDir()
	}
	log := runlog.Open(logDir, "wizard")
	if sess != nil {
		sess = sess.With(func(o *upgrade.Options) { o.Log = log })
	}
	elevated := true
	if a.cfg.Elevation != nil {
		ok, err := a.cfg.Elevation.IsElevated()
		elevated = ok && err == nil
		log.Logf("administrator rights: %v %v", ok, err)
	}
	var pending *upgrade.Pending
	var lastBackup *upgrade.Backup
	if sess != nil {
		if st, err := sess.Status(ctx); err == nil {
			pending = st.Pending
			if len(st.Backups) > 0 {
				lastBackup = &st.Backups[0]
			}
		} else {
			log.Logf("status: %v", err)
		}
	} else {
		log.Logf("installation: %v", inErr)
	}
	folder, plan, licensed, planErr := planFolder(ctx, sess, inErr, pkgPath)
	p, pkgErr := a.openPackage(ctx, in, licensed, log)
	fyne.Do(func() {
		a.loaded = true
		a.sess, a.in, a.inErr, a.log, a.elevated, a.pending, a.lastBackup = sess, in, inErr, log, elevated, pending, lastBackup
		a.folder, a.plan, a.planErr = folder, plan, planErr
		a.pkg, a.pkgErr = p, pkgErr
		a.relabel()
		a.settled.Store(true)
	})
	// The package's read buffers and the manifest's parse are garbage now, and the wizard
	// waits on its screen: the memory goes back to the system at once rather than at the
	// runtime's leisure (scripts/bench-wizard.sh measures the idle wizard).
	debug.FreeOSMemory()
}

// planFolder plans the chain through path when it is a folder of packages, and names
// the package whose license is shown: the chain's last (the version the administrator
// ends at), or path itself when it is one package.
// sess is nil, and inErr says why, when there is no installation.
func planFolder(ctx context.Context, sess *upgrade.Session, inErr error, path string) (folder bool, plan *upgrade.PlanReport, licensed string, err error) {
	if fi, serr := os.Stat(path); path == "" || serr != nil || !fi.IsDir() {
		return false, nil, path, nil
	}
	if sess == nil {
		return true, nil, "", inErr
	}
	plan, err = sess.Plan(ctx, path, "")
	if plan != nil && len(plan.Steps) > 0 {
		licensed = plan.Steps[len(plan.Steps)-1].Package
	}
	return true, plan, licensed, err
}

// openPackage reads and verifies the package for its license text and version, against
// the keys document the installation keeps (in may be nil); the check screen opens it
// again, with the check.
func (a *App) openPackage(ctx context.Context, in *install.Installation, path string, log *runlog.Log) (*pkg.Package, error) {
	if path == "" {
		return nil, nil
	}
	opt := pkg.Options{AllowUnsigned: true, Logf: log.Logf}
	if a.cfg.PublicKey != "" {
		k, err := pkg.LoadPublicKey(a.cfg.PublicKey)
		if err != nil {
			return nil, err
		}
		opt.Keys = append(opt.Keys, k)
		opt.Roots = opt.Keys
	}
	if in != nil {
		kept, err := trust.LoadKept(in.StateDir())
		if err != nil {
			return nil, err
		}
		opt.Kept = kept
	}
	return pkg.Open(ctx, path, opt)
}

// SetPackage makes path the update package and reads it again.
func (a *App) SetPackage(path string) {
	a.cfg.Package = path
	a.pkg, a.pkgErr, a.report, a.reportErr = nil, nil, nil, nil
	a.relabel()
	log, in := a.log, a.in
	sess, inErr := a.session(a.ctx)
	go func() {
		folder, plan, licensed, planErr := planFolder(a.ctx, sess, inErr, path)
		p, err := a.openPackage(a.ctx, in, licensed, log)
		fyne.Do(func() {
			if a.cfg.Package != path {
				return
			}
			a.folder, a.plan, a.planErr = folder, plan, planErr
			a.pkg, a.pkgErr = p, err
			a.relabel()
		})
	}()
}

// relaunch starts the wizard again as administrator and quits this one.
func (a *App) relaunch() {
	start := a.cfg.Start
	if start == nil {
		start = func(argv []string) error {
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			return cmd.Start()
		}
	}
	if err := start(a.cfg.Relaunch); err != nil {
		a.lang.relaunchErr = err
		a.lang.relabel()
		return
	}
	a.quit()
}
