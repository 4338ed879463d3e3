package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"omflow-upgrade/i18n"
	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pyenv"
	"omflow-upgrade/upgrade/version"
	"omflow-upgrade/wizard"
)

// The test binary is also the demo installations' service program.
func TestMain(m *testing.M) {
	if demo.Main(os.Args) {
		os.Exit(0)
	}
	if spec := os.Getenv(crashEnv); spec != "" {
		crashingApply(spec)
	}
	os.Exit(m.Run())
}

// crashEnv makes the test binary an update that is killed at a point of its run, as a
// power cut would: "root\npubkey\npackage\npoint".
const crashEnv = "OMFLOW_APP_TEST_CRASH"

func crashingApply(spec string) {
	f := strings.Split(spec, "\n")
	opt := upgrade.Options{Root: f[0], PublicKey: f[1], Hook: func(point string, _ int) {
		if point == f[3] {
			p, _ := os.FindProcess(os.Getpid())
			p.Kill()
			select {}
		}
	}}
	s, err := upgrade.Open(context.Background(), opt)
	if err == nil {
		_, err = s.Apply(context.Background(), f[2])
	}
	fmt.Fprintln(os.Stderr, "apply was not killed:", err)
	os.Exit(3)
}

const wait, tick = 30 * time.Second, 20 * time.Millisecond

// newTestDemo makes a demo installation of installed with a package of demo.KitUpdate for it;
// its service is stopped at the end of the test.
func newTestDemo(t *testing.T, installed string) *demo.Kit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := demo.NewKit(ctx, t.TempDir(), installed)
	require.NoError(t, err)
	t.Cleanup(d.Stop)
	return d
}

// harness is the wizard in a test window.
type harness struct {
	t    *testing.T
	a    *App
	win  fyne.Window
	quit bool
	en   *i18n.Localizer
}

func start(t *testing.T, d *demo.Kit, pkgPath string, change func(*Config)) *harness {
	t.Helper()
	test.NewTempApp(t).Settings().SetTheme(Theme())
	h := &harness{t: t, en: i18n.MustLoad().Localizer("en")}
	cfg := Config{Options: upgrade.Options{Root: d.Root, PublicKey: d.PublicKey, Override: install.Config{StartTimeout: 10}},
		Package: pkgPath, Language: "en"}
	cfg.Quit = func() { h.quit = true }
	if change != nil {
		change(&cfg)
	}
	h.win = test.NewTempWindow(t, nil)
	h.a = New(h.win, cfg)
	h.win.SetContent(h.a.Content())
	h.win.Resize(fyne.NewSize(960, 660))
	require.Eventually(t, h.a.settled.Load, wait, tick, "the wizard reads the installation and the package")
	return h
}

func (h *harness) buttons() (back, next, cancel *widget.Button) { return h.a.Wizard().Buttons() }

func (h *harness) title() string { return h.a.Wizard().Current().Title }

// nextWhenEnabled waits for Next to be enabled and taps it.
func (h *harness) nextWhenEnabled() {
	h.t.Helper()
	_, next, _ := h.buttons()
	require.Eventually(h.t, func() bool { return !next.Disabled() }, wait, tick, "Next stays disabled on %q", h.title())
	test.Tap(next)
}

// toCheck goes from the language screen through the license to the check screen.
func (h *harness) toCheck() {
	h.t.Helper()
	h.nextWhenEnabled()
	require.Equal(h.t, h.en.T("license.title", nil), h.title())
	test.Tap(h.a.license.agree)
	h.nextWhenEnabled()
	require.Equal(h.t, h.en.T("check.title", nil), h.title())
}

// checkDone waits for the check to end.
func (h *harness) checkDone() {
	h.t.Helper()
	require.Eventually(h.t, h.a.check.settled.Load, wait, tick)
}

// updateDone waits for the update screen to finish.
func (h *harness) updateDone() {
	h.t.Helper()
	require.Eventually(h.t, h.a.update.settled.Load, 2*wait, tick)
}

// item reads a checklist item.
func item(t *testing.T, c *wizard.Checklist, id string) (wizard.State, string, string) {
	t.Helper()
	st, text, detail, ok := c.Item(id)
	require.True(t, ok, "no item %q", id)
	return st, text, detail
}

// serves checks that the demo service runs and its login page names version v.
func serves(t *testing.T, root, v string) {
	t.Helper()
	in, err := install.Detect(root, install.Config{})
	require.NoError(t, err)
	resp, err := http.Get(in.HealthURL())
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), v)
	assert.Equal(t, v, in.Version.String())
}

// dialogButton finds a button by its text in the window's top overlay (a dialog).
func dialogButton(win fyne.Window, text string) *widget.Button {
	top := win.Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	var found *widget.Button
	walk(top, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
	})
	return found
}

// dialogText is every label's text in the top overlay.
func dialogText(win fyne.Window) string {
	top := win.Canvas().Overlays().Top()
	if top == nil {
		return ""
	}
	var out []string
	walk(top, func(o fyne.CanvasObject) {
		switch l := o.(type) {
		case *widget.Label:
			out = append(out, l.Text)
		case *widget.RichText:
			out = append(out, l.String())
		}
	})
	return strings.Join(out, "\n")
}

func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, child := range c.Objects {
			walk(child, fn)
		}
	case fyne.Widget:
		r := test.WidgetRenderer(c)
		for _, child := range r.Objects() {
			walk(child, fn)
		}
	}
}

func TestSuccessfulUpdate(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	h := start(t, d, d.Package, nil)
	en := h.en

	// Language: each language in its own name, the chosen one selected.
	assert.Equal(t, en.T("language.title", nil), h.title())
	assert.Equal(t, []string{"English", "繁體中文", "简体中文", "日本語"}, h.a.lang.langs.Options)
	assert.Equal(t, "English", h.a.lang.langs.Selected)
	assert.False(t, h.a.lang.rootBox.Visible(), "no administrator warning without an elevation question")
	h.nextWhenEnabled()

	// License: the package's English text; Next waits for "I agree".
	assert.Equal(t, en.T("license.title", nil), h.title())
	require.Eventually(t, func() bool { return strings.Contains(h.a.license.text.Text, "demo update: license agreement") }, wait, tick)
	assert.Equal(t, en.T("license.prompt", map[string]any{"Version": demo.KitUpdate}), h.a.license.prompt.Text)
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled())
	test.Tap(h.a.license.agree)
	h.nextWhenEnabled()

	// Check: every check passes; Next reads "Update".
	assert.Equal(t, en.T("check.title", nil), h.title())
	h.checkDone()
	assert.Equal(t, en.T("check.allPassed", nil), h.a.check.summary.Text)
	assert.Equal(t, en.T("check.next", nil), next.Text)
	st, text, detail := item(t, h.a.check.checks, upgrade.CheckVersion)
	assert.Equal(t, wizard.Passed, st)
	assert.Equal(t, en.T("check.name.version", nil), text)
	assert.Equal(t, en.T("check.ok.versionFix", map[string]any{"Update": demo.KitUpdate, "Installed": demo.KitInstalled}), detail)
	st, _, _ = item(t, h.a.check.checks, upgrade.CheckSignature)
	assert.Equal(t, wizard.Passed, st)
	assert.Equal(t, en.T("check.signature.verified", nil), h.a.check.updSig.Text)
	assert.Equal(t, en.T("check.installed.service", map[string]any{"State": en.T("check.state.running", nil)}), h.a.check.instService.Text)
	h.nextWhenEnabled()

	// Update: the steps run, the log is live, then Next.
	assert.Equal(t, en.T("update.title", nil), h.title())
	h.updateDone()
	assert.Equal(t, en.T("update.done", map[string]any{"Version": demo.KitUpdate}), h.a.update.result.Text)
	for _, name := range updateSteps {
		st, text, _ := item(t, h.a.update.steps, name)
		assert.Equal(t, wizard.Passed, st, name)
		assert.Equal(t, en.T(stepKeys[name], nil), text)
	}
	assert.InDelta(t, 1, h.a.update.work.Fraction(), 0.001)
	assert.Eventually(t, func() bool { return strings.Contains(h.a.update.work.Log().Text(), "committed") }, wait, tick,
		"the live log shows the core's lines")
	back, _, _ := h.buttons()
	assert.True(t, back.Disabled(), "no way back from an update")
	h.nextWhenEnabled()

	// Restart: the Python screen is skipped; the service answers with the new version.
	assert.Equal(t, en.T("restart.title", nil), h.title())
	assert.Equal(t, en.T("wizard.finish", nil), next.Text)
	assert.Equal(t, en.T("restart.healthy", map[string]any{"Version": demo.KitUpdate}), h.a.restart.result.Text)
	require.Eventually(t, h.a.restart.settled.Load, wait, tick)
	in, _ := install.Detect(d.Root, install.Config{})
	assert.Equal(t, en.T("restart.status.service", map[string]any{"State": en.T("check.state.running", nil), "Version": demo.KitUpdate}), h.a.restart.service.Text)
	assert.Equal(t, en.T("restart.status.answered", map[string]any{"URL": in.HealthURL()}), h.a.restart.url.Text)
	assert.Contains(t, h.a.restart.backup.Text, filepath.Join(d.Root, install.StateDirName))
	assert.Contains(t, h.a.restart.downtime.Text, "seconds")
	assert.Equal(t, en.T("restart.log", map[string]any{"Path": h.a.LogPath()}), h.a.restart.logPath.Text)
	assert.FileExists(t, h.a.LogPath())
	serves(t, d.Root, demo.KitUpdate)
	assert.NotContains(t, h.a.Wizard().StepList(), "  "+en.T("python.title", nil))

	test.Tap(next)
	assert.True(t, h.quit, "Finish ends the wizard")
}

func TestRefusedUpdateExplainsAndKeepsUpdateDisabled(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	ctx := context.Background()
	p, err := d.Pack(ctx, "1.2.0.1", nil)
	require.NoError(t, err)
	h := start(t, d, p, nil)
	h.toCheck()
	h.checkDone()
	st, _, detail := item(t, h.a.check.checks, upgrade.CheckVersion)
	assert.Equal(t, wizard.Failed, st)
	assert.Equal(t, h.en.T("check.refused.needsFirstRelease", map[string]any{"Update": "1.2.0.1", "Requires": "1.2.0.0"}), detail)
	assert.Contains(t, detail, "Install 1.2.0.0 first")
	assert.Equal(t, h.en.Plural("check.failedCount", 1, nil), h.a.check.summary.Text)
	_, next, _ := h.buttons()
	assert.Equal(t, h.en.T("check.next", nil), next.Text)
	assert.True(t, next.Disabled(), "Update stays disabled")
	test.Tap(next)
	assert.Equal(t, h.en.T("check.title", nil), h.title(), "a disabled Update does nothing")

	// Checking again changes nothing: still refused, still disabled.
	test.Tap(h.a.check.again)
	h.checkDone()
	assert.True(t, next.Disabled())
	serves(t, d.Root, demo.KitInstalled)
}

// failingControl is a control script whose start fails, as a broken release's would.
const failingControl = "#!/bin/sh\ncase \"$1\" in status) exit 3;; start) echo 'OMFLOW: ImportError: No module named omflow.settings' >&2; exit 1;; *) exit 0;; esac\n"

func TestServiceThatFailsToStartIsRolledBack(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	p, err := d.Pack(context.Background(), demo.KitUpdate, map[string]string{"server/omflow_server": failingControl})
	require.NoError(t, err)
	h := start(t, d, p, nil)
	h.toCheck()
	h.nextWhenEnabled()
	h.updateDone()
	en := h.en
	res := h.a.update.result.Text
	assert.Contains(t, res, en.T("restart.rolledBack", map[string]any{"Version": demo.KitInstalled}))
	st, text, _ := item(t, h.a.update.steps, upgrade.StepStart)
	assert.Equal(t, wizard.Failed, st, text)
	st, _, _ = item(t, h.a.update.steps, upgrade.StepRollback)
	assert.Equal(t, wizard.Passed, st)

	// The error dialog says what happened, what was kept and where the log is.
	msg := dialogText(h.win)
	assert.Contains(t, msg, en.T("error.keptRolledBack", map[string]any{"Version": demo.KitInstalled}))
	assert.Contains(t, msg, en.T("error.log", map[string]any{"Path": h.a.LogPath()}))
	test.Tap(dialogButton(h.win, en.T("wizard.close", nil)))

	h.nextWhenEnabled()
	assert.Equal(t, en.T("restart.title", nil), h.title())
	assert.Contains(t, h.a.restart.result.Text, "OMFLOW did not start after the update")
	assert.Equal(t, en.T("restart.rolledBack", map[string]any{"Version": demo.KitInstalled}), h.a.restart.detail.Text)
	require.Eventually(t, h.a.restart.settled.Load, wait, tick)
	assert.Equal(t, en.T("restart.status.service", map[string]any{"State": en.T("check.state.running", nil), "Version": demo.KitInstalled}), h.a.restart.service.Text)
	serves(t, d.Root, demo.KitInstalled)
}

func TestCancelDuringUpdateRollsBack(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	real, err := os.ReadFile(filepath.Join(d.Root, "server", "omflow_server"))
	require.NoError(t, err)
	// The new release's service takes a while to start: time to cancel.
	slow := "#!/bin/sh\nif [ \"$1\" = start ]; then sleep 4; fi\nexec \"$(dirname -- \"$0\")/omflow_server.real\" \"$@\"\n"
	p, err := d.Pack(context.Background(), demo.KitUpdate, map[string]string{
		"server/omflow_server": slow, "server/omflow_server.real": string(real)})
	require.NoError(t, err)
	h := start(t, d, p, nil)
	h.toCheck()
	h.nextWhenEnabled()
	en := h.en
	require.Eventually(t, func() bool { return h.a.update.Step() == upgrade.StepStart }, wait, tick)
	_, _, cancel := h.buttons()
	test.Tap(cancel)
	assert.Contains(t, dialogText(h.win), en.T("wizard.stopMessage", nil))
	yes := dialogButton(h.win, en.T("wizard.yes", nil))
	require.NotNil(t, yes)
	test.Tap(yes)
	h.updateDone()
	assert.Equal(t, en.T("update.rolledBack", map[string]any{"Version": demo.KitInstalled}), h.a.update.result.Text)
	st, _, _ := item(t, h.a.update.steps, upgrade.StepRollback)
	assert.Equal(t, wizard.Passed, st)
	assert.False(t, h.quit, "Cancel during the update stops the update, not the wizard")
	serves(t, d.Root, demo.KitInstalled)

	h.nextWhenEnabled()
	assert.Equal(t, en.T("update.rolledBack", map[string]any{"Version": demo.KitInstalled}), h.a.restart.result.Text)
}

func TestLicenseNeedsAgreement(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	h := start(t, d, d.Package, nil)
	h.nextWhenEnabled()
	_, next, _ := h.buttons()
	require.Eventually(t, func() bool { return h.a.pkg != nil }, wait, tick)
	assert.False(t, h.a.license.agree.Checked)
	assert.True(t, next.Disabled(), "Next needs I agree")
	test.Tap(next)
	assert.Equal(t, h.en.T("license.title", nil), h.title())
	test.Tap(h.a.license.agree)
	assert.False(t, next.Disabled())
	test.Tap(h.a.license.agree)
	assert.True(t, next.Disabled(), "unticking disables Next again")
}

func TestLanguageSwitchRelabelsAtOnce(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	h := start(t, d, d.Package, nil)
	ja := i18n.MustLoad().Localizer("ja")
	h.nextWhenEnabled()
	require.Eventually(t, func() bool { return strings.Contains(h.a.license.text.Text, "demo update") }, wait, tick)
	test.Tap(h.a.license.agree)

	back, next, cancel := h.buttons()
	test.Tap(back)
	require.Equal(t, h.en.T("language.title", nil), h.title())
	h.a.lang.langs.SetSelected("日本語")

	// Everything at once: title, buttons, the step list, the window title.
	assert.Equal(t, "ja", h.a.Language())
	assert.Equal(t, ja.T("language.title", nil), h.title())
	assert.Equal(t, ja.T("language.prompt", nil), h.a.lang.prompt.Text)
	assert.Equal(t, ja.T("wizard.next", nil), next.Text)
	assert.Equal(t, ja.T("wizard.cancel", nil), cancel.Text)
	assert.Equal(t, ja.T("app.title", nil), h.win.Title())
	assert.Equal(t, "  "+ja.T("license.title", nil), h.a.Wizard().StepList()[1])
	assert.Equal(t, "  "+ja.T("restart.title", nil), h.a.Wizard().StepList()[len(h.a.Wizard().StepList())-1])

	// The screens further on speak Japanese too, and the license is the Japanese text.
	test.Tap(next)
	assert.Equal(t, ja.T("license.title", nil), h.title())
	assert.Equal(t, ja.T("license.agree", nil), h.a.license.agree.Text)
	assert.True(t, h.a.license.agree.Checked, "the answer is kept")
	assert.Contains(t, h.a.license.text.Text, "使用許諾契約")
	assert.False(t, h.a.license.note.Visible())
	h.nextWhenEnabled()
	h.checkDone()
	assert.Equal(t, ja.T("check.allPassed", nil), h.a.check.summary.Text)
	_, text, _ := item(t, h.a.check.checks, upgrade.CheckVersion)
	assert.Equal(t, ja.T("check.name.version", nil), text)
	assert.Equal(t, ja.T("check.next", nil), next.Text)
}

// notElevated is a process without administrator rights.
type notElevated struct{}

func (notElevated) IsElevated() (bool, error) { return false, nil }

func TestNotRootOffersPkexec(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	var started []string
	h := start(t, d, d.Package, func(c *Config) {
		c.Elevation = notElevated{}
		c.Relaunch = []string{"/usr/bin/pkexec", "/usr/bin/omflow-upgrade-wizard", "-env", "DISPLAY=:0"}
		c.Start = func(argv []string) error { started = argv; return nil }
	})
	require.Eventually(t, func() bool { return h.a.lang.rootBox.Visible() }, wait, tick)
	assert.Equal(t, h.en.T("root.title", nil), h.a.lang.rootTitle.Text)
	assert.Equal(t, h.en.T("root.message", map[string]any{"Root": d.Root}), h.a.lang.rootMsg.Text)
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled(), "no way into an upgrade that would fail half-way")
	assert.Equal(t, h.en.T("root.pkexec", nil), h.a.lang.rootButton.Text)
	test.Tap(h.a.lang.rootButton)
	assert.Equal(t, []string{"/usr/bin/pkexec", "/usr/bin/omflow-upgrade-wizard", "-env", "DISPLAY=:0"}, started)
	assert.True(t, h.quit, "this instance ends once the elevated one starts")
}

func TestUnsignedPackageIsShownInRed(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	// Signed, but with a key the wizard does not trust: refused until allowed.
	other := newTestDemo(t, demo.KitInstalled)
	h := start(t, d, other.Package, nil)
	h.toCheck()
	h.checkDone()
	assert.Equal(t, widget.DangerImportance, h.a.check.updSig.Importance)
	assert.True(t, h.a.check.allowUnsigned.Visible())
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled())
	st, _, _ := item(t, h.a.check.checks, "signature")
	assert.Equal(t, wizard.Failed, st)

	test.Tap(h.a.check.allowUnsigned)
	h.checkDone()
	st, _, detail := item(t, h.a.check.checks, upgrade.CheckSignature)
	assert.Equal(t, wizard.Warning, st)
	assert.Equal(t, h.en.T("check.warn.unsigned", nil), detail)
	assert.Equal(t, widget.DangerImportance, h.a.check.updSig.Importance)
	assert.False(t, next.Disabled(), "allowed by the administrator's choice")
}

func TestPythonMoveIsCheckedFirst(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	pythonEnv(t, filepath.Join(d.Root, "python"), "3.6.8", "Django", "2.2.28")
	p, err := d.PackPython(context.Background(), demo.KitUpdate, "3.11", nil)
	require.NoError(t, err)
	h := start(t, d, p, nil)
	en := h.en
	h.toCheck()
	h.checkDone()
	st, _, detail := item(t, h.a.check.checks, upgrade.CheckPython)
	_, next, _ := h.buttons()
	if _, err := pyenv.FindPython(context.Background(), "3.11"); err != nil {
		// No Python 3.11 on this machine: the check says where to install it.
		assert.Equal(t, wizard.Failed, st)
		assert.Equal(t, en.T("check.refused.python", map[string]any{"Version": "3.11", "Path": "/usr/bin"}), detail)
		assert.True(t, next.Disabled())
		return
	}
	assert.Equal(t, wizard.Passed, st)
	assert.Equal(t, en.T("check.ok.pythonMove", map[string]any{"Version": "3.11"}), detail)
	assert.True(t, h.a.check.wheelsBox.Visible(), "online or from a folder of wheels")
	assert.Equal(t, en.T("check.wheels.online", nil), h.a.check.wheels.Text)
	steps := h.a.update.baseOrder()
	assert.Contains(t, steps, upgrade.StepPython, "the update lists the move")
	assert.Less(t, slices.Index(steps, upgrade.StepPythonPrepare), slices.Index(steps, upgrade.StepStop),
		"the new environment is prepared before the stop, and the list says so: %v", steps)
	assert.Less(t, -1, slices.Index(steps, upgrade.StepPythonPrepare), "the preparation is listed: %v", steps)
	assert.Contains(t, h.a.Wizard().StepList(), "  "+en.T("python.title", nil), "the Python step is listed when needed")
	assert.False(t, next.Disabled())
}

// The move itself (a new venv, pip install of the old packages) needs a package index,
// which tests do not reach. This test updates for real with a package that keeps Python,
// then stands in for the move with the state it leaves: the old venv in the run's backup,
// the new venv in its place, the check's note of the move.
func TestPythonPackagesLoopUntilNothingIsMissing(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	h := start(t, d, d.Package, nil)
	en := h.en
	h.toCheck()
	h.checkDone()
	h.nextWhenEnabled()
	h.updateDone()
	require.NoError(t, h.a.applyErr)
	moved := filepath.Join(h.a.applied.Backup, "python-rebuild", "python")
	pythonEnv(t, moved, "3.6.8", "Django", "2.2.28", "ldap3", "2.9.1", "openpyxl", "3.0.10", "pip", "21.3.1")
	newVenv := filepath.Join(d.Root, "python")
	pythonEnv(t, newVenv, "3.11.4", "Django", "4.2.7", "ldap3", "2.9.1")
	h.a.report.Package.Manifest.Requires.Python = "3.11"
	h.a.report.Checks = append(h.a.report.Checks, upgrade.CheckItem{Name: upgrade.CheckPython, OK: true, Reason: upgrade.ReasonPythonMove})
	h.nextWhenEnabled()

	assert.Equal(t, en.T("python.title", nil), h.title())
	require.Eventually(t, h.a.python.settled.Load, wait, tick)
	ps := h.a.python
	assert.Equal(t, newVenv, ps.newPath.Text, "the new venv is compared by default")
	assert.Equal(t, en.T("python.old", map[string]any{"Path": moved, "Version": "3.6.8"}), ps.old.Text)
	assert.Equal(t, en.Plural("python.missingCount", 1, nil), ps.status.Text)
	assert.Equal(t, "• "+en.T("python.missingItem", map[string]any{"Name": "openpyxl", "Version": "3.0.10"}), ps.missing.Text,
		"pip is tooling, never missing")
	assert.Contains(t, ps.commandText.Text, "openpyxl==3.0.10")
	assert.Contains(t, ps.commandText.Text, "-m pip install")
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled(), "Next waits until nothing is missing")
	assert.False(t, ps.save.Disabled())
	assert.Equal(t, "openpyxl==3.0.10\n", requirements(ps.report.Missing))

	// The administrator installs it by hand; check again.
	writeDist(t, filepath.Join(newVenv, "lib", "python3.11", "site-packages"), "openpyxl", "3.1.2")
	test.Tap(ps.again)
	require.Eventually(t, ps.settled.Load, wait, tick)
	assert.Equal(t, en.T("python.nothingMissing", nil), ps.status.Text)
	assert.True(t, ps.online.Disabled())
	h.nextWhenEnabled()
	assert.Equal(t, en.T("restart.title", nil), h.title())
}

func TestInterruptedRunIsRecoveredFirst(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), crashEnv+"="+strings.Join([]string{d.Root, d.PublicKey, d.Package, "stopped"}, "\n"))
	out, err := child.CombinedOutput()
	require.Error(t, err, "the update must die at the point: %s", out)

	h := start(t, d, d.Package, nil)
	en := h.en
	require.True(t, h.a.lang.recovery.box.Visible(), "the first screen says an earlier run was interrupted")
	assert.Equal(t, en.T("recover.message", map[string]any{"Root": d.Root}), h.a.lang.recovery.message.Text)
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled(), "nothing else before the recovery")
	test.Tap(h.a.lang.recovery.button)
	require.Eventually(t, func() bool { return !next.Disabled() }, wait, tick)
	assert.Equal(t, en.T("recover.done", map[string]any{"Version": demo.KitInstalled}), h.a.lang.recovery.result.Text)
	serves(t, d.Root, demo.KitInstalled)

	// And the update then goes through.
	h.toCheck()
	h.checkDone()
	h.nextWhenEnabled()
	h.updateDone()
	assert.Equal(t, en.T("update.done", map[string]any{"Version": demo.KitUpdate}), h.a.update.result.Text)
	serves(t, d.Root, demo.KitUpdate)
}

func TestOSLocaleIsPreselected(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "zh_TW.UTF-8")
	h := start(t, d, d.Package, func(c *Config) { c.Language = "" })
	zh := i18n.MustLoad().Localizer("zh-Hant")
	assert.Equal(t, "繁體中文", h.a.lang.langs.Selected)
	assert.Equal(t, zh.T("language.title", nil), h.title())
	assert.Equal(t, zh.T("language.suggested", map[string]any{"Language": "繁體中文"}), h.a.lang.suggested.Text)
}

func TestInstallationAndPackageAreReadBehindTheFirstFrame(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	test.NewTempApp(t).Settings().SetTheme(Theme())
	win := test.NewTempWindow(t, nil)
	a := New(win, Config{Options: upgrade.Options{Root: d.Root, PublicKey: d.PublicKey}, Package: d.Package, Language: "en", DeferLoad: true})
	win.SetContent(a.Content())
	win.Resize(fyne.NewSize(960, 660))
	assert.Never(t, a.settled.Load, 300*time.Millisecond, tick, "read before the window was drawn")
	_, next, _ := a.Wizard().Buttons()
	assert.True(t, next.Disabled(), "Next waits for the look at the installation")

	win.Canvas().Capture() // the first frame
	require.Eventually(t, a.settled.Load, wait, tick, "the wizard reads the installation and the package")
	require.Eventually(t, func() bool { return !next.Disabled() }, wait, tick)
	assert.Equal(t, demo.KitUpdate, a.pkg.Manifest.Version)
}

func TestMissingInstallationIsExplained(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	nowhere := filepath.Join(t.TempDir(), "not-omflow")
	h := start(t, d, d.Package, func(c *Config) { c.Root = nowhere })
	h.toCheck()
	h.checkDone()
	st, _, detail := item(t, h.a.check.checks, upgrade.CheckInstallation)
	assert.Equal(t, wizard.Failed, st)
	assert.Contains(t, detail, h.en.T("check.refused.notInstalled", map[string]any{"Root": nowhere, "Error": ""}))
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled())
	assert.FileExists(t, h.a.LogPath(), "the log goes to the temporary folder when there is no installation")
	os.Remove(h.a.LogPath())
}

// packFolder makes a folder holding packages of the given versions for d.
func packFolder(t *testing.T, d *demo.Kit, versions ...string) string {
	t.Helper()
	dir := filepath.Join(d.Dir, "updates")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, v := range versions {
		p, err := d.Pack(context.Background(), v, nil)
		require.NoError(t, err)
		require.NoError(t, os.Rename(p, filepath.Join(dir, filepath.Base(p))))
	}
	return dir
}

func TestFolderOfPackagesIsWalkedStepByStep(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	dir := packFolder(t, d, "1.2.0.0", "1.2.0.1")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "omflow_update_9_9_9_9.tar.gz"), []byte("not a package"), 0o644))
	h := start(t, d, dir, nil)
	en := h.en
	h.nextWhenEnabled()
	assert.Equal(t, en.T("license.prompt", map[string]any{"Version": "1.2.0.1"}), h.a.license.prompt.Text,
		"the license of the version the chain ends at")
	test.Tap(h.a.license.agree)
	h.nextWhenEnabled()
	h.checkDone()
	st, text, detail := item(t, h.a.check.checks, checkPlan)
	assert.Equal(t, wizard.Passed, st)
	assert.Equal(t, en.T("check.plan.heading", nil), text)
	assert.Contains(t, detail, en.T("check.plan.path", map[string]any{"Installed": demo.KitInstalled, "Target": "1.2.0.1",
		"Path": demo.KitInstalled + " → 1.2.0.0 → 1.2.0.1"}))
	assert.Contains(t, detail, en.Plural("check.plan.hops", 2, nil))
	assert.Contains(t, detail, "omflow_update_9_9_9_9.tar.gz", "a bad file is left out and named")
	st, _, detail = item(t, h.a.check.checks, upgrade.CheckVersion)
	assert.Equal(t, wizard.Passed, st, detail)
	h.nextWhenEnabled()

	h.updateDone()
	assert.Equal(t, en.T("update.done", map[string]any{"Version": "1.2.0.1"}), h.a.update.result.Text)
	assert.Contains(t, h.a.update.intro.Text, en.T("update.hop", map[string]any{"Hop": 2, "Hops": 2, "From": "1.2.0.0", "To": "1.2.0.1"}))
	assert.Contains(t, h.a.update.work.Log().Text(), "1.2.0.1 committed", "the steps' own logs are followed")
	serves(t, d.Root, "1.2.0.1")
	h.nextWhenEnabled()
	require.Eventually(t, h.a.restart.settled.Load, wait, tick)
	assert.Equal(t, en.T("restart.healthy", map[string]any{"Version": "1.2.0.1"}), h.a.restart.result.Text)
	assert.Contains(t, h.a.restart.backup.Text, install.StateDirName)
}

func TestFolderWithoutAChainNamesTheMissingVersion(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	dir := packFolder(t, d, "1.2.0.1")
	h := start(t, d, dir, nil)
	h.toCheck()
	h.checkDone()
	st, _, detail := item(t, h.a.check.checks, checkPlan)
	assert.Equal(t, wizard.Failed, st)
	assert.Equal(t, h.en.T("check.plan.missing", map[string]any{"Requires": "1.2.0.0"}), detail)
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled())
}

func TestDatabaseOutsideTheBackupNeedsTheAdministratorsWord(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	settings := filepath.Join(d.Root, "server", "omflow", "settings.py")
	b, err := os.ReadFile(settings)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(settings, []byte(strings.Replace(string(b), "django.db.backends.sqlite3", "django.db.backends.postgresql", 1)), 0o644))
	h := start(t, d, d.Package, nil)
	en := h.en
	h.toCheck()
	h.checkDone()
	st, _, detail := item(t, h.a.check.checks, upgrade.CheckDatabase)
	assert.Equal(t, wizard.Failed, st)
	assert.Equal(t, en.T("check.refused.database", map[string]any{"Engine": "postgresql"}), detail)
	assert.True(t, h.a.check.dbBackedUp.Visible())
	assert.Equal(t, en.T("check.choice.databaseBackedUp", nil), h.a.check.dbBackedUp.Text)
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled())
	test.Tap(h.a.check.dbBackedUp)
	h.checkDone()
	st, _, _ = item(t, h.a.check.checks, upgrade.CheckDatabase)
	assert.Equal(t, wizard.Warning, st)

	// The administrator changed settings.py, and so does the update: which wins?
	st, _, detail = item(t, h.a.check.checks, upgrade.CheckConfig)
	assert.Equal(t, wizard.Failed, st)
	assert.Equal(t, en.T("check.refused.configConflict", map[string]any{"Files": "server/omflow/settings.py"}), detail)
	assert.True(t, next.Disabled())
	require.True(t, h.a.check.configChoice.Visible())
	// No copy of the previous release: the two copies' different lines, side by side.
	row := h.a.check.configRows["server/omflow/settings.py"]
	require.NotNil(t, row)
	require.NotNil(t, row.diff)
	test.Tap(row.diff)
	diff := dialogText(h.win)
	assert.Contains(t, diff, en.T("check.diff.noBase", map[string]any{"Path": "server/omflow/settings.py"}))
	assert.Contains(t, diff, "django.db.backends.postgresql")
	assert.Contains(t, diff, "django.db.backends.sqlite3")
	assert.NotContains(t, diff, en.T("check.diff.base", nil), "no base column")
	test.Tap(dialogButton(h.win, en.T("wizard.close", nil)))
	h.a.check.configChoice.SetSelected(en.T("check.choice.configKeep", nil))
	h.checkDone()
	st, _, _ = item(t, h.a.check.checks, upgrade.CheckConfig)
	assert.Equal(t, wizard.Passed, st)
	assert.False(t, next.Disabled(), "the administrator's word lets the update go")

	h.nextWhenEnabled()
	h.updateDone()
	assert.NoError(t, h.a.applyErr)
	serves(t, d.Root, demo.KitUpdate)
	b, err = os.ReadFile(settings)
	require.NoError(t, err)
	assert.Contains(t, string(b), "postgresql", "the administrator's settings stay")
	assert.FileExists(t, settings+".omflow-new", "the update's beside them")
}

func TestCancelBeforeTheUpdateLeavesEverythingAsItWas(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	h := start(t, d, d.Package, nil)
	h.toCheck()
	h.checkDone()
	_, _, cancel := h.buttons()
	test.Tap(cancel)
	assert.Contains(t, dialogText(h.win), h.en.T("wizard.quitMessage", nil))
	test.Tap(dialogButton(h.win, h.en.T("wizard.no", nil)))
	assert.False(t, h.quit, "No stays")
	test.Tap(cancel)
	test.Tap(dialogButton(h.win, h.en.T("wizard.yes", nil)))
	assert.True(t, h.quit)
	serves(t, d.Root, demo.KitInstalled)
	st, err := openSession(t, upgrade.Options{Root: d.Root}).Status(context.Background())
	require.NoError(t, err)
	assert.Nil(t, st.Pending)
	assert.Empty(t, st.Backups, "the check wrote nothing but its log")
}

// conflictingDemo is a demo whose administrator moved settings.py to Berlin's time zone,
// with an update (stored with the previous release's settings.py as its merge base) that
// moves it to UTC: the same line changed on both sides.
func conflictingDemo(t *testing.T) (*demo.Kit, string) {
	t.Helper()
	d := newTestDemo(t, demo.KitInstalled)
	settings := filepath.Join(d.Root, "server", "omflow", "settings.py")
	b, err := os.ReadFile(settings)
	require.NoError(t, err)
	mine := strings.Replace(string(b), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Europe/Berlin'", 1)
	require.NotEqual(t, string(b), mine)
	require.NoError(t, os.WriteFile(settings, []byte(mine), 0o644))
	theirs := strings.Replace(string(b), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'UTC'", 1)
	p, err := d.PackWith(context.Background(), demo.PackSpec{Version: demo.KitUpdate,
		Files: map[string]string{"server/omflow/settings.py": theirs}, Base: demo.KitInstalled})
	require.NoError(t, err)
	return d, p
}

func TestConfigConflictShowsTheDifferencesAndTheChoice(t *testing.T) {
	d, p := conflictingDemo(t)
	h := start(t, d, p, nil)
	en := h.en
	const rel = "server/omflow/settings.py"
	h.toCheck()
	h.checkDone()
	st, _, _ := item(t, h.a.check.checks, upgrade.CheckConfig)
	assert.Equal(t, wizard.Failed, st)
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled())

	// The file, what the update does with it, and a way to its differences.
	require.True(t, h.a.check.configBox.Visible())
	row := h.a.check.configRows[rel]
	require.NotNil(t, row, "settings.py is listed")
	assert.Equal(t, en.T("check.config.conflict", map[string]any{"Path": rel}), row.label.Text)
	assert.Equal(t, widget.DangerImportance, row.label.Importance)
	require.NotNil(t, row.diff)
	assert.Equal(t, en.T("check.config.differences", nil), row.diff.Text)

	// The three-way view: the administrator's edit, the base, the update's edit.
	test.Tap(row.diff)
	diff := dialogText(h.win)
	assert.Contains(t, diff, en.T("check.diff.threeWay", map[string]any{"Path": rel}))
	assert.Contains(t, diff, en.T("check.diff.mine", nil))
	assert.Contains(t, diff, en.T("check.diff.base", nil))
	assert.Contains(t, diff, en.T("check.diff.theirs", map[string]any{"Version": demo.KitUpdate}))
	assert.Contains(t, diff, "TIME_ZONE = 'Europe/Berlin'", "the administrator's edit")
	assert.Contains(t, diff, "TIME_ZONE = 'Asia/Taipei'", "the previous release's line")
	assert.Contains(t, diff, "TIME_ZONE = 'UTC'", "the update's edit")
	assert.Contains(t, diff, en.T("check.diff.keepHelp", map[string]any{"New": "settings.py.omflow-new"}))
	assert.Contains(t, diff, en.T("check.diff.takeHelp", map[string]any{"Old": "settings.py.omflow-old"}))

	// Keep mine: the check runs again and lets the update go.
	keep := dialogButton(h.win, en.T("check.diff.keep", nil))
	require.NotNil(t, keep)
	test.Tap(keep)
	assert.Equal(t, en.T("check.choice.configKeep", nil), h.a.check.configChoice.Selected)
	h.checkDone()
	require.Eventually(t, func() bool { return !next.Disabled() }, wait, tick, "keep mine enables Update")
	row = h.a.check.configRows[rel]
	require.NotNil(t, row)
	assert.Equal(t, en.T("check.config.newBeside", map[string]any{"Path": rel, "Beside": rel + ".omflow-new"}), row.label.Text)
	assert.NotNil(t, row.diff, "the differences stay in reach after the choice")

	h.nextWhenEnabled()
	h.updateDone()
	require.NoError(t, h.a.applyErr)
	h.nextWhenEnabled()
	assert.Equal(t, en.T("restart.title", nil), h.title())
	assert.True(t, h.a.restart.config.Visible())
	assert.Contains(t, h.a.restart.config.Text, en.T("restart.config.newBeside", map[string]any{"Path": rel, "Beside": rel + ".omflow-new"}))
	b, err := os.ReadFile(filepath.Join(d.Root, filepath.FromSlash(rel)))
	require.NoError(t, err)
	assert.Contains(t, string(b), "Europe/Berlin", "mine stays")
	b, err = os.ReadFile(filepath.Join(d.Root, filepath.FromSlash(rel)+".omflow-new"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "TIME_ZONE = 'UTC'", "the update's beside it")
}

func TestDetailsListEveryFileWithItsActionAndTheTotal(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	// An installed file the update deletes, and one it adds.
	old := filepath.Join(d.Root, "server", "omflow", "old_report.py")
	require.NoError(t, os.WriteFile(old, []byte(strings.Repeat("#", 100)), 0o644))
	added := "# OMFLOW demo: reports\n"
	p, err := d.PackWith(context.Background(), demo.PackSpec{Version: demo.KitUpdate,
		Files: map[string]string{"server/omflow/reports.py": added}, Delete: []string{"server/omflow/old_report.py"}})
	require.NoError(t, err)
	h := start(t, d, p, nil)
	en := h.en
	h.toCheck()
	h.checkDone()

	v, err := version.Parse(demo.KitUpdate)
	require.NoError(t, err)
	files := demo.Files(v)
	size := func(rel string) int64 { return int64(len(files[rel])) }
	want := map[string]upgrade.FileAction{
		"server/omflow/reports.py":    {Action: "add", Size: int64(len(added))},
		"server/omflow/__init__.py":   {Action: "replace", Size: size("server/omflow/__init__.py")},
		"server/omflow/urls.py":       {Action: "replace", Size: size("server/omflow/urls.py")},
		"server/omflow/views.py":      {Action: "replace", Size: size("server/omflow/views.py")},
		"server/omflow/settings.py":   {Action: "keep", Size: size("server/omflow/settings.py")},
		"server/omflow/old_report.py": {Action: "delete", Size: 100},
	}
	det := h.a.check.details
	got := map[string]upgrade.FileAction{}
	for _, f := range det.files {
		got[f.Path] = upgrade.FileAction{Action: f.Action, Size: f.Size}
	}
	assert.Equal(t, want, got)
	written := int64(len(added)) + size("server/omflow/__init__.py") + size("server/omflow/urls.py") + size("server/omflow/views.py")

	// Collapsed at first; its title already gives the count and the total.
	require.True(t, det.acc.Visible())
	assert.False(t, det.item.Open, "collapsed by default")
	assert.Equal(t, en.Plural("check.files.title", 6, map[string]any{"Size": humanBytes(written)}), det.item.Title)
	assert.Contains(t, det.summary.Text, en.T("check.files.total", map[string]any{"Written": humanBytes(written), "Deleted": "100 B"}))
	assert.Contains(t, det.summary.Text, en.T("check.files.group", map[string]any{"Action": en.T("check.files.action.replace", nil),
		"Count": 3, "Size": humanBytes(written - int64(len(added)))}))
	assert.Contains(t, det.summary.Text, en.T("check.files.group", map[string]any{"Action": en.T("check.files.action.delete", nil),
		"Count": 1, "Size": "100 B"}))

	// Opened, it lists the files grouped by action: added first, deleted last.
	det.acc.Open(0)
	h.win.Content().Refresh()
	var labels []string
	walk(h.win.Content(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Visible() {
			labels = append(labels, l.Text)
		}
	})
	text := strings.Join(labels, "\n")
	assert.Contains(t, text, "server/omflow/reports.py\n"+en.T("check.files.action.add", nil)+"\n"+humanBytes(int64(len(added))))
	assert.Contains(t, text, "server/omflow/old_report.py\n"+en.T("check.files.action.delete", nil)+"\n100 B")
	assert.Equal(t, "add", det.files[0].Action)
	assert.Equal(t, "delete", det.files[len(det.files)-1].Action)
}

func TestFailedUpdateSpeaksTheChosenLanguageWithTheCoresTextBelow(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	p, err := d.Pack(context.Background(), demo.KitUpdate, map[string]string{"server/omflow_server": failingControl})
	require.NoError(t, err)
	h := start(t, d, p, func(c *Config) { c.Language = "ja" })
	ja := i18n.MustLoad().Localizer("ja")
	h.en = ja // the harness reads titles in the language in use
	h.toCheck()
	h.checkDone()
	h.nextWhenEnabled()
	h.updateDone()
	require.Error(t, h.a.applyErr)
	core := h.a.applyErr.Error()
	require.Contains(t, core, "rolled back", "the core's text is English")

	// What happened, in Japanese, from the step that failed; the core's text under it,
	// smaller and selectable.
	happened := ja.T("error.happened", map[string]any{"Error": ja.T("error.failedStart", nil)})
	msg := dialogText(h.win)
	assert.Contains(t, msg, happened)
	assert.Contains(t, msg, ja.T("error.keptRolledBack", map[string]any{"Version": demo.KitInstalled}))
	assert.NotContains(t, msg, h.en.T("error.happened", map[string]any{"Error": core}), "no raw English as what happened")
	var first, detail *widget.Label
	walk(h.win.Canvas().Overlays().Top(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			if l.Text == happened && first == nil {
				first = l
			}
			if l.Text == core {
				detail = l
			}
		}
	})
	require.NotNil(t, first)
	require.NotNil(t, detail, "the core's English text is there, word for word")
	assert.True(t, detail.Selectable)
	assert.Equal(t, theme.SizeNameCaptionText, detail.SizeName)
	assert.Greater(t, detail.Position().Y, first.Position().Y, "below what happened")
	test.Tap(dialogButton(h.win, ja.T("wizard.close", nil)))

	// The restart screen says the same.
	h.nextWhenEnabled()
	assert.Equal(t, ja.T("error.failedStart", nil), h.a.restart.result.Text)
	assert.Equal(t, core, h.a.restart.errDetail.Text)
	assert.True(t, h.a.restart.errDetail.Visible())
}

// The core's check items the wizard has words for are translated; one it has none for
// says so in the language in use, with the core's English text under it.
func TestCheckItemsSpeakTheChosenLanguage(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	h := start(t, d, d.Package, func(c *Config) { c.Language = "zh-Hans" })
	zh := i18n.MustLoad().Localizer("zh-Hans")
	h.en = zh
	h.toCheck()
	h.checkDone()
	r := h.a.report
	set := func(c upgrade.CheckItem) {
		for i := range r.Checks {
			if r.Checks[i].Name == c.Name {
				r.Checks[i] = c
				return
			}
		}
		r.Checks = append(r.Checks, c)
	}
	r.Package.Manifest.Requires.Python = "3.11"
	set(upgrade.CheckItem{Name: upgrade.CheckPython, Reason: upgrade.ReasonPythonNoVenv, Message: "python3.11 lacks venv"})
	set(upgrade.CheckItem{Name: upgrade.CheckDatabase, OK: true, Warning: true, Reason: "database-unknown", Message: "read settings: boom"})
	set(upgrade.CheckItem{Name: "future", Reason: "future-reason", Message: "a check this wizard does not know"})
	h.a.check.relabel()

	st, _, detail := item(t, h.a.check.checks, upgrade.CheckPython)
	assert.Equal(t, wizard.Failed, st)
	assert.Equal(t, zh.T("check.refused.pythonVenv", map[string]any{"Version": "3.11"}), detail)
	st, _, detail = item(t, h.a.check.checks, upgrade.CheckDatabase)
	assert.Equal(t, wizard.Warning, st)
	assert.Equal(t, zh.T("check.warn.databaseUnknown", nil), detail)
	st, text, detail := item(t, h.a.check.checks, "future")
	assert.Equal(t, wizard.Failed, st)
	assert.Equal(t, "future", text)
	assert.Equal(t, zh.T("check.refused.unknown", nil)+"\na check this wizard does not know", detail)
	_, next, _ := h.buttons()
	assert.True(t, next.Disabled())
}

// openSession opens the installation of opt, as the wizard does at its start.
func openSession(t *testing.T, opt upgrade.Options) *upgrade.Session {
	t.Helper()
	s, err := upgrade.Open(context.Background(), opt)
	require.NoError(t, err)
	return s
}
