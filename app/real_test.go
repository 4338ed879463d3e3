//go:build !windows

package app

import (
	"context"
	"database/sql"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"omflow-upgrade/i18n"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/wizard"
)

// OMFLOW's own release 1.0.0.1, running under Debian's Django, updated through the
// wizard to its release 1.1.0.0: the check screen says what the database gets, the
// update brings the site's database to the release's schema, and the restart screen
// sees 1.1.0.0 answer.
// newRealDemo is OMFLOW's own 1.0.0.1 running, with a package of its 1.1.0.0.
func newRealDemo(t *testing.T) *demo.Kit {
	t.Helper()
	releases := os.Getenv("OMFLOW_REAL")
	if releases == "" {
		releases = filepath.Join("..", "..", "shared", "omflow-real")
	}
	if _, err := os.Stat(demo.RealRelease(releases, "1.1.0.0")); err != nil {
		t.Fatalf("OMFLOW's real releases are not at %s (set OMFLOW_REAL to their folder): %v", releases, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := demo.NewRealKit(ctx, t.TempDir(), releases, "1.0.0.1", "1.1.0.0")
	require.NoError(t, err)
	t.Cleanup(d.Stop)
	return d
}

func TestRealOMFLOWUpdateThroughTheWizard(t *testing.T) {
	d := newRealDemo(t)
	h := start(t, d, d.Package, func(c *Config) { c.Override.StartTimeout = 60 })
	en := h.en

	h.nextWhenEnabled()
	require.Eventually(t, func() bool { return strings.Contains(h.a.license.text.Text, "GNU GENERAL PUBLIC LICENSE") }, wait, tick,
		"the license screen shows the release's own license")
	test.Tap(h.a.license.agree)
	h.nextWhenEnabled()
	h.checkDone()
	assert.Equal(t, en.T("check.allPassed", nil), h.a.check.summary.Text)
	st, text, detail := item(t, h.a.check.checks, upgrade.CheckSchema)
	assert.Equal(t, wizard.Passed, st)
	assert.Equal(t, en.T("check.name.schema", nil), text)
	// Debian's Django 3.2 has one auth migration that OMFLOW's database (made with 2.2) lacks.
	assert.Contains(t, detail, en.T("check.ok.schema", map[string]any{"Tables": 0, "Rows": 0, "Columns": 4, "Indexes": 0, "Migrations": 1}))
	assert.Contains(t, detail, "omformflow_flowactive.api_path", "the columns the database gets are named")
	if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" { // scripts/screenshots.sh
		h.a.check.scroll.ScrollToBottom() // the database's item is the last
		saveCapture(t, h, filepath.Join(dir, "en", "3f-check-real-omflow.png"))
	}
	h.nextWhenEnabled()

	h.updateDone()
	assert.Equal(t, en.T("update.done", map[string]any{"Version": "1.1.0.0"}), h.a.update.result.Text)
	for _, name := range []string{upgrade.StepSchema, upgrade.StepMigrate} {
		st, text, _ := item(t, h.a.update.steps, name)
		assert.Equal(t, wizard.Passed, st, name)
		assert.Equal(t, en.T(stepKeys[name], nil), text)
	}
	h.nextWhenEnabled()

	assert.Equal(t, en.T("restart.title", nil), h.title())
	require.Eventually(t, h.a.restart.settled.Load, wait, tick)
	assert.Equal(t, en.T("restart.healthy", map[string]any{"Version": "1.1.0.0"}), h.a.restart.result.Text)
	in, err := install.Detect(d.Root, install.Config{})
	require.NoError(t, err)
	assert.Equal(t, "1.1.0.0", in.Version.String())
	assert.Equal(t, en.T("restart.status.answered", map[string]any{"URL": in.HealthURL()}), h.a.restart.url.Text)
}

// saveCapture writes what the wizard's window shows as a PNG.
func saveCapture(t *testing.T, h *harness, path string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, png.Encode(f, h.win.Canvas().Capture()))
}

// Data entered after an update: the wizard's rollback asks what to do with it before it
// changes anything, and "keep today's data" rolls the files back and keeps the database.
func TestRollbackAsksAboutDataEnteredSinceTheUpdate(t *testing.T) {
	d := newRealDemo(t)
	opt := upgrade.Options{Root: d.Root, PublicKey: d.PublicKey, Override: install.Config{StartTimeout: 60}}
	_, err := openSession(t, opt).Apply(context.Background(), d.Package)
	require.NoError(t, err)
	dbPath := filepath.Join(d.Root, "server", "db.omflow")
	db, err := sql.Open("sqlite", dbPath)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE "omformmodel_omdata_0123456789abcdef0123456789abcdef_datano" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "createtime" datetime NOT NULL)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	today, err := os.ReadFile(dbPath)
	require.NoError(t, err)

	h := start(t, d, d.Package, func(c *Config) { c.Override.StartTimeout = 60; c.Language = "ja" })
	ja := i18n.MustLoad().Localizer("ja")
	panel := h.a.lang.rollback
	require.True(t, panel.box.Visible(), "the first screen offers to roll the update back")
	assert.Equal(t, ja.T("rollback.button", map[string]any{"From": "1.0.0.1"}), panel.button.Text)
	test.Tap(panel.button)
	require.Eventually(t, func() bool { return dialogButton(h.win, ja.T("rollback.ask.filesOnlyButton", nil)) != nil }, wait, tick,
		"the wizard asks what to do with the data entered since the update")
	assert.Contains(t, dialogText(h.win), ja.T("rollback.ask.message", nil))
	now, _ := os.ReadFile(dbPath)
	assert.Equal(t, today, now, "nothing changes before the administrator answers")
	if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
		saveCapture(t, h, filepath.Join(dir, "ja", "1b-rollback-asks.png"))
	}

	test.Tap(dialogButton(h.win, ja.T("rollback.ask.filesOnlyButton", nil)))
	done := ja.T("rollback.done", map[string]any{"Version": "1.0.0.1"}) + "\n" + ja.T("rollback.keptToday", nil)
	require.Eventually(t, func() bool { return panel.result.Text == done }, 2*wait, tick,
		"the first screen says the rollback is done and today's data stays")
	in, err := install.Detect(d.Root, install.Config{})
	require.NoError(t, err)
	assert.Equal(t, "1.0.0.1", in.Version.String())
	now, _ = os.ReadFile(dbPath)
	assert.Equal(t, today, now, "today's database stays with the previous version's files")
}
