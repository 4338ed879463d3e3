package app

// Screenshots of every screen in every language, taken with Fyne's software renderer on
// real demo upgrades: SCREENSHOT_DIR=docs/screenshots go test -run TestScreenshots
// ./app (scripts/screenshots.sh). Without SCREENSHOT_DIR the test is skipped.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/require"

	"omflow-upgrade/i18n"
	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/wizard/screenshot"
)

var shotSize = fyne.NewSize(960, 660)

// writeDist writes a distribution's metadata into a site-packages folder.
func writeDist(t *testing.T, site, name, version string) {
	t.Helper()
	dir := filepath.Join(site, name+"-"+version+".dist-info")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "METADATA"),
		[]byte("Metadata-Version: 2.1\nName: "+name+"\nVersion: "+version+"\n"), 0o644))
}

// pythonEnv lays out a venv of Python version at dir holding dists (name, version pairs).
func pythonEnv(t *testing.T, dir, version string, dists ...string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pyvenv.cfg"), []byte("home = /usr/bin\nversion = "+version+"\n"), 0o644))
	site := filepath.Join(dir, "lib", "python"+majorMinor(version), "site-packages")
	for i := 0; i+1 < len(dists); i += 2 {
		writeDist(t, site, dists[i], dists[i+1])
	}
}

func TestScreenshots(t *testing.T) {
	out := os.Getenv("SCREENSHOT_DIR")
	if out == "" {
		t.Skip("SCREENSHOT_DIR not set")
	}
	for _, lang := range i18n.Languages() {
		t.Run(lang.Code, func(t *testing.T) { shootLanguage(t, filepath.Join(out, lang.Code), lang.Code) })
	}
}

func shootLanguage(t *testing.T, dir, code string) {
	d := newTestDemo(t, demo.KitInstalled)
	p := d.Package
	s := screenshot.New(screenshot.Options{Size: shotSize, Theme: Theme()})
	h := &harness{t: t, en: i18n.MustLoad().Localizer(code), win: s.Window()}
	h.a = New(h.win, Config{Options: upgrade.Options{Root: d.Root, PublicKey: d.PublicKey, Override: install.Config{StartTimeout: 10}},
		Package: p, Language: code, Quit: func() {}})
	h.win.SetContent(h.a.Content())
	require.Eventually(t, h.a.settled.Load, wait, tick)
	shot := func(n int, name string) {
		t.Helper()
		path := filepath.Join(dir, fmt.Sprintf("%d-%s.png", n, name))
		require.NoError(t, s.Save(path))
	}
	shot(1, "language")

	h.nextWhenEnabled()
	require.Eventually(t, func() bool { return h.a.pkg != nil }, wait, tick)
	test.Tap(h.a.license.agree)
	shot(2, "license")

	h.nextWhenEnabled()
	h.checkDone()
	shot(3, "check")
	// The Details part opened, scrolled into sight.
	h.a.check.details.acc.Open(0)
	h.a.check.scroll.ScrollToBottom()
	require.NoError(t, s.Save(filepath.Join(dir, "3e-check-details.png")))
	h.a.check.details.acc.Close(0)
	h.a.check.scroll.ScrollToTop()

	h.nextWhenEnabled()
	h.updateDone()
	h.a.update.work.Log().Flush()
	shot(4, "update")

	// The move to Python 3.11 needs a package index; the pictures show the state it
	// leaves (see TestPythonPackagesLoopUntilNothingIsMissing): the old venv in the
	// backup lacks two packages in the new one.
	pythonEnv(t, filepath.Join(h.a.applied.Backup, "python-rebuild", "python"), "3.6.8",
		"Django", "2.2.28", "ldap3", "2.9.1", "openpyxl", "3.0.10", "pytz", "2022.1", "mod_wsgi", "4.9.0")
	newPy := filepath.Join(d.Root, "python")
	pythonEnv(t, newPy, "3.11.4", "Django", "4.2.7", "ldap3", "2.9.1", "mod_wsgi", "4.9.4")
	h.a.report.Package.Manifest.Requires.Python = "3.11"
	h.a.report.Checks = append(h.a.report.Checks, upgrade.CheckItem{Name: upgrade.CheckPython, OK: true, Reason: upgrade.ReasonPythonMove})
	h.a.Wizard().Refresh() // as a check that found the move does
	h.nextWhenEnabled()
	require.Equal(t, h.en.T("python.title", nil), h.title())
	require.Eventually(t, h.a.python.settled.Load, wait, tick)
	shot(5, "python")

	// The missing packages arrive in the new environment: check again, Next.
	site := filepath.Join(newPy, "lib", "python3.11", "site-packages")
	writeDist(t, site, "openpyxl", "3.1.2")
	writeDist(t, site, "pytz", "2023.3")
	test.Tap(h.a.python.again)
	h.nextWhenEnabled()
	require.Eventually(t, h.a.restart.settled.Load, wait, tick)
	shot(6, "restart")

	// A refusal, the choices a check asks for, and an update whose service does not start.
	refused(t, dir, code)
	choices(t, dir, code)
	differences(t, dir, code)
	failed(t, dir, code)
}

// choices is the check of an installation whose settings.py the administrator changed
// to PostgreSQL: the database is outside the backup, and settings.py conflicts.
func choices(t *testing.T, dir, code string) {
	d := newTestDemo(t, demo.KitInstalled)
	settings := filepath.Join(d.Root, "server", "omflow", "settings.py")
	b, err := os.ReadFile(settings)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(settings, []byte(strings.Replace(string(b), "django.db.backends.sqlite3", "django.db.backends.postgresql", 1)), 0o644))
	s, _ := shooter(t, d, d.Package, code)
	require.NoError(t, s.Save(filepath.Join(dir, "3c-check-choices.png")))
}

// differences is the three-way view of a settings.py both the administrator and the
// update changed, then the restart screen after "keep mine".
func differences(t *testing.T, dir, code string) {
	d, p := conflictingDemo(t)
	s, h := shooter(t, d, p, code)
	row := h.a.check.configRows["server/omflow/settings.py"]
	require.NotNil(t, row)
	require.NotNil(t, row.diff)
	test.Tap(row.diff)
	require.NoError(t, s.Save(filepath.Join(dir, "3d-check-differences.png")))
	test.Tap(dialogButton(h.win, h.en.T("check.diff.keep", nil)))
	h.checkDone()
	h.nextWhenEnabled()
	h.updateDone()
	h.nextWhenEnabled()
	require.Eventually(t, h.a.restart.settled.Load, wait, tick)
	require.NoError(t, s.Save(filepath.Join(dir, "6c-restart-config-kept.png")))
}

// shooter opens the wizard in language code on pkgPath of d in an in-memory window and
// goes through the license to the end of the check.
func shooter(t *testing.T, d *demo.Kit, pkgPath, code string) (*screenshot.Shooter, *harness) {
	t.Helper()
	s := screenshot.New(screenshot.Options{Size: shotSize, Theme: Theme()})
	h := &harness{t: t, en: i18n.MustLoad().Localizer(code), win: s.Window()}
	h.a = New(h.win, Config{Options: upgrade.Options{Root: d.Root, PublicKey: d.PublicKey, Override: install.Config{StartTimeout: 10}},
		Package: pkgPath, Language: code, Quit: func() {}})
	h.win.SetContent(h.a.Content())
	require.Eventually(t, h.a.settled.Load, wait, tick)
	h.nextWhenEnabled()
	test.Tap(h.a.license.agree)
	h.nextWhenEnabled()
	h.checkDone()
	return s, h
}

func refused(t *testing.T, dir, code string) {
	d := newTestDemo(t, demo.KitInstalled)
	p, err := d.Pack(context.Background(), "1.2.0.1", nil)
	require.NoError(t, err)
	s, _ := shooter(t, d, p, code)
	require.NoError(t, s.Save(filepath.Join(dir, "3b-check-refused.png")))
}

func failed(t *testing.T, dir, code string) {
	d := newTestDemo(t, demo.KitInstalled)
	p, err := d.Pack(context.Background(), demo.KitUpdate, map[string]string{"server/omflow_server": failingControl})
	require.NoError(t, err)
	s, h := shooter(t, d, p, code)
	h.nextWhenEnabled()
	h.updateDone()
	h.a.update.work.Log().Flush()
	require.NoError(t, s.Save(filepath.Join(dir, "4b-update-failed.png")))
	test.Tap(dialogButton(h.win, h.en.T("wizard.close", nil)))
	h.nextWhenEnabled()
	require.Eventually(t, h.a.restart.settled.Load, wait, tick)
	require.NoError(t, s.Save(filepath.Join(dir, "6b-restart-rolled-back.png")))
}
