package upgrade

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

const settingsRel = "server/omflow/settings.py"

// demoSettings is settings.py as the demo release ships it: the base of the next update.
func demoSettings() string { return demo.Files(version.MustParse("1.1.6.1"))[settingsRel] }

func edit(t *testing.T, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("fixture lacks %q", old)
	}
	return strings.Replace(text, old, new, 1)
}

func readRel(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeRel(t *testing.T, root, rel, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(rel)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func configResult(results []ConfigResult, path string) string {
	for _, r := range results {
		if r.Path == path {
			return r.Result
		}
	}
	return ""
}

func fileAction(files []FileAction, path string) string {
	for _, f := range files {
		if f.Path == path {
			return f.Action
		}
	}
	return ""
}

func TestSettingsEditMergedWithThePackagesBase(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	mine := edit(t, demoSettings(), "ALLOWED_HOSTS = ['127.0.0.1', 'localhost']", "ALLOWED_HOSTS = ['omflow.example.com']")
	writeRel(t, in.Root, settingsRel, mine)
	theirs := edit(t, demoSettings(), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Asia/Tokyo'")
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{settingsRel: theirs},
		base: map[string]string{settingsRel: demoSettings()}})

	r, err := openSession(t, options(t, in)).Check(context.Background(), p, true)
	if err != nil || fileAction(r.Files, settingsRel) != "merge" || configResult(r.Config, settingsRel) != "merged" {
		t.Fatalf("check: %v files %+v config %+v", err, r.Files, r.Config)
	}
	rep, err := openSession(t, options(t, in)).Apply(context.Background(), p)
	if err != nil || configResult(rep.Config, settingsRel) != "merged" {
		t.Fatalf("apply: %v %+v", err, rep)
	}
	got := readRel(t, in.Root, settingsRel)
	want := edit(t, mine, "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Asia/Tokyo'")
	if got != want {
		t.Fatalf("merged settings.py:\n%s\nwant:\n%s", got, want)
	}
	answers(t, in, "1.1.6.3")
	if _, err := openSession(t, options(t, in)).Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if readRel(t, in.Root, settingsRel) != mine {
		t.Fatal("rollback did not give back the administrator's settings.py")
	}
}

func TestConflictingSettings(t *testing.T) {
	mine := edit(t, demoSettings(), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Europe/Paris'")
	theirs := edit(t, demoSettings(), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Asia/Tokyo'")
	tests := []struct {
		choice      string
		exit        int
		result      string
		settings    string
		beside      string // file expected beside settings.py after apply
		besideValue string
	}{
		{"", outcome.ExitRefused, "conflict", mine, "", ""},
		{"keep", 0, "new-beside", mine, settingsRel + ".omflow-new", theirs},
		{"new", 0, "old-saved", theirs, settingsRel + ".omflow-old", mine},
	}
	for _, tt := range tests {
		t.Run("choice="+tt.choice, func(t *testing.T) {
			in := newDemo(t, "", "1.1.6.1")
			writeRel(t, in.Root, settingsRel, mine)
			before := snapshot(t, in.Root)
			p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{settingsRel: theirs, "server/omflow/views.py": "# 1.1.6.3\n"},
				base: map[string]string{settingsRel: demoSettings()}})
			opt := options(t, in)
			opt.ConfigChoice = tt.choice
			r, cerr := openSession(t, opt).Check(context.Background(), p, true)
			if configResult(r.Config, settingsRel) != tt.result || outcome.ExitCode(cerr) != tt.exit {
				t.Fatalf("check: exit %d, config %+v", outcome.ExitCode(cerr), r.Config)
			}
			_, err := openSession(t, opt).Apply(context.Background(), p)
			if outcome.ExitCode(err) != tt.exit {
				t.Fatalf("apply: exit %d (%v), want %d", outcome.ExitCode(err), err, tt.exit)
			}
			if tt.exit != 0 {
				if !strings.Contains(err.Error(), settingsRel) || !strings.Contains(err.Error(), "-config keep") {
					t.Fatalf("the refusal must name the file and the choices: %v", err)
				}
				sameTree(t, before, snapshot(t, in.Root))
				if _, err := os.Stat(in.StateDir()); err == nil {
					t.Fatal("the refused update left its state folder behind")
				}
				answers(t, in, "1.1.6.1")
				return
			}
			if got := readRel(t, in.Root, settingsRel); got != tt.settings {
				t.Fatalf("settings.py after apply:\n%s", got)
			}
			if got := readRel(t, in.Root, tt.beside); got != tt.besideValue {
				t.Fatalf("%s:\n%s", tt.beside, got)
			}
			if _, err := openSession(t, options(t, in)).Rollback(context.Background()); err != nil {
				t.Fatal(err)
			}
			sameTree(t, before, snapshot(t, in.Root))
		})
	}
}

func TestTheRecordOfAnUpdateIsTheNextBase(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	v3 := edit(t, demoSettings(), "DEBUG = False", "DEBUG = False\nUSE_TZ = True")
	p3 := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{settingsRel: v3},
		base: map[string]string{settingsRel: demoSettings()}})
	rep, err := openSession(t, options(t, in)).Apply(context.Background(), p3)
	if err != nil || configResult(rep.Config, settingsRel) != "replaced" {
		t.Fatalf("first update: %v %+v", err, rep)
	}
	mine := edit(t, v3, "SECRET_KEY = 'demo-secret-key-change-me'", "SECRET_KEY = 'site-secret'")
	writeRel(t, in.Root, settingsRel, mine)
	// The next release carries no base: the record of 1.1.6.3 is the base.
	v4 := edit(t, v3, "LANGUAGE_CODE = 'zh-hant'", "LANGUAGE_CODE = 'en'")
	p4 := buildPackage(t, release{version: "1.1.6.4", files: map[string]string{settingsRel: v4}})
	rep, err = openSession(t, options(t, in)).Apply(context.Background(), p4)
	if err != nil || configResult(rep.Config, settingsRel) != "merged" {
		t.Fatalf("second update: %v %+v", err, rep)
	}
	if got, want := readRel(t, in.Root, settingsRel), edit(t, mine, "LANGUAGE_CODE = 'zh-hant'", "LANGUAGE_CODE = 'en'"); got != want {
		t.Fatalf("merged:\n%s", got)
	}
	// Rolled back, the record of 1.1.6.3 is the base again: the same update merges again.
	if _, err := openSession(t, options(t, in)).Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, err := openSession(t, options(t, in)).Check(context.Background(), p4, false); err != nil || configResult(r.Config, settingsRel) != "merged" {
		t.Fatalf("check after rollback: %v %+v", err, r.Config)
	}
}

// newSQLite makes a SQLite database file by running statements, and returns its bytes.
func newSQLite(t *testing.T, path string, statements ...string) string {
	t.Helper()
	db := openDB(t, path)
	for _, q := range statements {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTheSitesDatabaseIsKept(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	const ticket = `CREATE TABLE ticket (id integer PRIMARY KEY, subject text)`
	os.Remove(filepath.Join(in.Root, "server", "db.omflow")) // the demo's stand-in
	site := newSQLite(t, filepath.Join(in.Root, "server", "db.omflow"), ticket, `INSERT INTO ticket (subject) VALUES ('the site''s own ticket')`)
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{
		"server/db.omflow":       newSQLite(t, filepath.Join(t.TempDir(), "release.db"), ticket),
		"server/omflow/views.py": "# 1.1.6.3\n",
	}})
	r, err := openSession(t, options(t, in)).Check(context.Background(), p, true)
	if err != nil || fileAction(r.Files, "server/db.omflow") != "keep" || configResult(r.Config, "server/db.omflow") != "kept" {
		t.Fatalf("check: %v %+v %+v", err, r.Files, r.Config)
	}
	if _, err := openSession(t, options(t, in)).Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if readRel(t, in.Root, "server/db.omflow") != site {
		t.Fatal("the update replaced the site's database")
	}
}

func TestFailedMigrationRestoresFilesAndDatabase(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	writeRel(t, in.Root, "server/db.omflow", "SQLite format 3\x00 before\n")
	before := snapshot(t, in.Root)
	// A stand-in interpreter: the migration writes into the database, then fails.
	py := filepath.Join(t.TempDir(), "python3")
	os.WriteFile(py, []byte("#!/bin/sh\necho \"Applying flow.0002_ticket... $*\"\necho 'half-migrated' >> db.omflow\necho 'django.db.utils.OperationalError: no such column' >&2\nexit 1\n"), 0o755)
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{
		"server/omflow/views.py":                "# 1.1.6.3\n",
		"server/flow/migrations/0002_ticket.py": "# migration\n",
	}})
	opt := options(t, in)
	opt.Override.Python = py
	_, err := openSession(t, opt).Apply(context.Background(), p)
	if outcome.ExitCode(err) != outcome.ExitRolledBack || !strings.Contains(err.Error(), "migrat") {
		t.Fatalf("exit %d: %v", outcome.ExitCode(err), err)
	}
	sameTree(t, before, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}

func TestNonSQLiteDatabaseNeedsABackup(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	writeRel(t, in.Root, settingsRel, edit(t, demoSettings(), "'django.db.backends.sqlite3'", "'django.db.backends.postgresql'"))
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{"server/omflow/views.py": "# 1.1.6.3\n"}})
	r, err := openSession(t, options(t, in)).Check(context.Background(), p, false)
	if err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, c := range r.Checks {
		warned = warned || (c.Name == CheckDatabase && c.Warning && c.Reason == ReasonDatabaseNotBackedUp)
	}
	if !warned {
		t.Fatalf("check does not warn: %+v", r.Checks)
	}
	before := snapshot(t, in.Root)
	_, err = openSession(t, options(t, in)).Apply(context.Background(), p)
	if outcome.ExitCode(err) != outcome.ExitRefused || !strings.Contains(err.Error(), "-db-backed-up") {
		t.Fatalf("apply without -db-backed-up: %v", err)
	}
	sameTree(t, before, snapshot(t, in.Root))
	opt := options(t, in)
	opt.DBBackedUp = true
	if _, err := openSession(t, opt).Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// A package cannot replace the site's database, wherever settings.py puts it: a release
// that ships it as a plain file is refused before anything changes.
func TestAPackageCannotReplaceTheSitesDatabase(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	settings := readRel(t, in.Root, settingsRel)
	writeRel(t, in.Root, settingsRel, strings.Replace(settings, "'db.omflow'", "'site.sqlite3'", 1))
	const ticket = `CREATE TABLE ticket (id integer PRIMARY KEY, subject text)`
	newSQLite(t, filepath.Join(in.Root, "server", "site.sqlite3"), ticket, `INSERT INTO ticket (subject) VALUES ('the site''s own ticket')`)
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{
		"server/site.sqlite3":    newSQLite(t, filepath.Join(t.TempDir(), "release.db"), ticket),
		"server/omflow/views.py": "# 1.1.6.3\n",
	}})
	before := snapshot(t, in.Root)
	_, err := openSession(t, options(t, in)).Apply(context.Background(), p)
	if outcome.ExitCode(err) != outcome.ExitUnusable || !strings.Contains(err.Error(), "server/site.sqlite3") {
		t.Fatalf("apply: %v, want unusable input naming the database", err)
	}
	sameTree(t, before, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}
