//go:build !windows

package upgrade

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/pyenv"
	"omflow-upgrade/upgrade/pyenv/pyenvtest"
	"omflow-upgrade/upgrade/svc"
)

// OMFLOW's own public releases, under Debian's python3-django: the real thing the
// stand-in demo only imitates (../shared/omflow-real/README.md).

// realReleases is the folder of OMFLOW's releases: OMFLOW_REAL, else the steering
// repository's shared folder beside this checkout.
func realReleases(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("OMFLOW_REAL")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "omflow-real")
	}
	if _, err := os.Stat(filepath.Join(dir, "omflow-1.1.0.0.tar.gz")); err != nil {
		t.Fatalf("OMFLOW's real releases are not at %s (set OMFLOW_REAL to their folder): %v", dir, err)
	}
	if err := demo.CheckDjango(context.Background(), debianPython); err != nil {
		t.Fatalf("%v (make deps-test installs it)", err)
	}
	return dir
}

// realOMFLOW lays out OMFLOW release v, running under runserver on loopback, and stops it
// at the end of the test.
func realOMFLOW(t *testing.T, v string) *install.Installation {
	t.Helper()
	root := filepath.Join(t.TempDir(), "omflow")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := demo.CreateReal(ctx, demo.RealOptions{Root: root, Python: debianPython,
		Release: demo.RealRelease(realReleases(t), v)}); err != nil {
		t.Fatal(err)
	}
	in, err := install.Detect(root, install.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { (&svc.Script{Argv: in.Control(), Dir: root}).Stop(context.Background()) })
	return in
}

// extractRelease unpacks OMFLOW release v as a release engineer's tree (server/...).
func extractRelease(t *testing.T, v string) string {
	t.Helper()
	dir := t.TempDir()
	if err := demo.ExtractRelease(context.Background(), demo.RealRelease(realReleases(t), v), dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// packRelease packs the release tree src as the update to v, with the previous release's
// tree as the base of its config files (pack -base).
func packRelease(t *testing.T, src, v, base string) string {
	t.Helper()
	return packReleaseFor(t, src, v, base, "", "")
}

// packReleaseFor is packRelease for a release that requires Python python and Django
// django.
func packReleaseFor(t *testing.T, src, v, base, python, django string) string {
	t.Helper()
	_, key := keyPair(t)
	k, err := pkg.LoadPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "omflow_update_"+strings.ReplaceAll(v, ".", "_")+".tar.gz")
	m, err := pkg.Pack(context.Background(), pkg.PackOptions{SrcDir: src, Out: out, Key: k, Version: v, BaseDir: base, Python: python, Django: django})
	if err != nil {
		t.Fatal(err)
	}
	if m.Schema != "server/db.omflow" {
		t.Fatalf("pack recorded the schema reference %q, want server/db.omflow", m.Schema)
	}
	return out
}

// siteData gives the installation data of its own, as a site has: a user made through
// OMFLOW's own user model, and a form's run-time table with a row.
const siteForm = "omformmodel_omdata_0123456789abcdef0123456789abcdef"

func addSiteData(t *testing.T, in *install.Installation) {
	t.Helper()
	cmd := exec.Command(debianPython, "manage.py", "shell", "-c",
		`from omuser.models import OmUser; OmUser.objects.create_user(username="site-admin", email="site-admin@example.org", password="Site-pass-1", nick_name="Site Admin")`)
	cmd.Dir = in.ProjectDir()
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("add a site user: %v\n%s", err, out)
	}
	db := openDB(t, filepath.Join(in.ProjectDir(), "db.omflow"))
	var ddl string
	if err := db.QueryRow(`select sql from sqlite_master where name = 'omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba_datano'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		strings.Replace(ddl, "7f811b732ddf44d4995aeffdc56ad2ba", siteForm[len("omformmodel_omdata_"):], 1),
		`insert into "` + siteForm + `_datano" (createtime) values ('2026-12-01 09:00:00')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// unapplied lists the migrations manage.py showmigrations marks as not applied.
func unapplied(t *testing.T, in *install.Installation) []string {
	t.Helper()
	cmd := exec.Command(debianPython, "manage.py", "showmigrations", "--plan")
	cmd.Dir = in.ProjectDir()
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("showmigrations: %v\n%s", err, out)
	}
	var left []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "[ ]") {
			left = append(left, strings.TrimSpace(line))
		}
	}
	return left
}

func TestRealOMFLOW1001To1100KeepsTheSitesData(t *testing.T) {
	in := realOMFLOW(t, "1.0.0.1")
	addSiteData(t, in)
	dbPath := filepath.Join(in.ProjectDir(), "db.omflow")
	before, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	p := packRelease(t, extractRelease(t, "1.1.0.0"), "1.1.0.0", extractRelease(t, "1.0.0.1"))
	ctx := context.Background()
	opt := options(t, in)
	opt.Override.StartTimeout = 60

	r, err := openSession(t, opt).Check(ctx, p, false)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if r.Database == nil || !r.Database.Django {
		t.Fatalf("check did not try the new release against a copy of the database: %+v", r.Database)
	}
	var cols []string
	for _, c := range r.Database.Columns {
		cols = append(cols, c.Table+"."+c.Column)
	}
	if got := strings.Join(cols, " "); !strings.Contains(got, "omformflow_flowactive.api_path") || len(cols) != 4 {
		t.Fatalf("check says the database gets the columns %q, want api_path and the three language_package", got)
	}
	if now, _ := os.ReadFile(dbPath); !bytes.Equal(now, before) {
		t.Fatal("check changed the site's database")
	}
	for _, c := range r.Checks {
		if c.Name == CheckDiskSpace && (!strings.Contains(c.Message, "database copies 2 × 4") || c.Bytes < 2*int64(len(before))) {
			t.Fatalf("the disk check does not count the database's copies: %+v", c)
		}
	}
	answers(t, in, "1.0.0.1")

	rep, err := openSession(t, opt).Apply(ctx, p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if rep.Database == nil || len(rep.Database.Columns) != 4 {
		t.Fatalf("apply's database report: %+v", rep.Database)
	}
	answers(t, in, "1.1.0.0")
	loginShows(t, in, "1.1.0.0")
	if left := unapplied(t, in); len(left) > 0 {
		t.Fatalf("migrations left unapplied after the update: %v", left)
	}
	if got := query(t, dbPath, `select username from omuser_omuser where username = 'site-admin'`); got != "site-admin" {
		t.Fatalf("the site's user is gone after the update (%q)", got)
	}
	if got := query(t, dbPath, `select createtime || '' from "`+siteForm+`_datano"`); got != "2026-12-01 09:00:00" {
		t.Fatalf("the site's form table lost its row: %q", got)
	}
	if got := query(t, dbPath, `select count(*) from pragma_table_info('omformflow_flowactive') where name = 'api_path'`); got != "1" {
		t.Fatal("the release's column api_path is not in the site's database")
	}
	if got := query(t, dbPath, `select language_package from omformflow_activeapplication`); got != "{}" {
		t.Fatalf("the site's application got language_package %q, want Django's default {}", got)
	}

	if _, err := openSession(t, options(t, in)).Rollback(ctx); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if now, _ := os.ReadFile(dbPath); !bytes.Equal(now, before) {
		t.Fatal("rollback did not give back the database byte for byte")
	}
	answers(t, in, "1.0.0.1")
	loginShows(t, in, "1.0.0.1")
}

// loginShows checks that OMFLOW's own login page is served by release v: it names its
// version in its stylesheet's link.
func loginShows(t *testing.T, in *install.Installation, v string) {
	t.Helper()
	resp, err := http.Get(in.HealthURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("omflow.css?version="+v)) {
		t.Fatalf("the login page (HTTP %d) is not OMFLOW %s's", resp.StatusCode, v)
	}
}

// A release whose code cannot start against the site's data: a model field with no
// column in the release's database and no default. check and apply refuse it before
// the service stops.
func TestRealOMFLOWReleaseThatCannotStartIsRefusedBeforeTheStop(t *testing.T) {
	in := realOMFLOW(t, "1.0.0.1")
	p := packRelease(t, brokenRelease(t), "1.1.0.0", extractRelease(t, "1.0.0.1"))
	before := snapshot(t, in.Root)
	pidFile := filepath.Join(in.Root, demo.RunDirName, "pid")
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	opt := options(t, in)
	opt.Override.StartTimeout = 60

	for name, run := range map[string]func() error{
		"check": func() error { _, err := openSession(t, opt).Check(context.Background(), p, false); return err },
		"apply": func() error { _, err := openSession(t, opt).Apply(context.Background(), p); return err },
	} {
		err := run()
		var refused *outcome.RefusedError
		if !errors.As(err, &refused) || refused.Reason != ReasonNewCodeFails {
			t.Fatalf("%s: %v, want a refusal %s", name, err, ReasonNewCodeFails)
		}
		if !strings.Contains(err.Error(), "broken_field") {
			t.Fatalf("%s: the refusal does not quote Django's error: %v", name, err)
		}
		if code := outcome.ExitCode(err); code != 3 {
			t.Fatalf("%s: exit %d, want 3", name, code)
		}
		sameTree(t, before, snapshot(t, in.Root))
		answers(t, in, "1.0.0.1")
		if now, _ := os.ReadFile(pidFile); !bytes.Equal(now, pid) {
			t.Fatalf("%s: the service was restarted (pid %s, was %s): it must not be stopped", name, now, pid)
		}
	}
}

// brokenRelease is OMFLOW 1.1.0.0's tree with a model field that has no column in the
// release's database and no default: its Django cannot start against a site's data.
func brokenRelease(t *testing.T) string {
	t.Helper()
	src := extractRelease(t, "1.1.0.0")
	models := filepath.Join(src, "server", "omformflow", "models.py")
	b, err := os.ReadFile(models)
	if err != nil {
		t.Fatal(err)
	}
	const field = "    api_path = models.CharField("
	if !bytes.Contains(b, []byte(field)) {
		t.Fatalf("%s has no api_path field to put a new one beside", models)
	}
	b = bytes.Replace(b, []byte(field), []byte("    broken_field = models.IntegerField()\n"+field), 1)
	if err := os.WriteFile(models, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// A release that moves OMFLOW to a newer Python is tried with that Python: the new
// environment is made beside the old one while the service runs, and the new release's
// Django is set up with its interpreter against a copy of the database, before the stop.
// A release that cannot start is refused there: the service was never stopped, the
// prepared environment is gone and the tree is as it was.
func TestRealOMFLOWPythonMoveTriesTheNewCodeWithTheNewPython(t *testing.T) {
	// Debian's python3.11 first on PATH: the new environment is made with it, and sees
	// Debian's Django as the old one does.
	t.Setenv("PATH", "/usr/bin:"+os.Getenv("PATH"))
	in := realOMFLOW(t, "1.0.0.1")
	oldVenv(t, in, "--system-site-packages")
	// The release runs on Debian's Django 3.2; the rest of its packages come from a wheel
	// folder, offline.
	p := packReleaseFor(t, brokenRelease(t), "1.1.0.0", extractRelease(t, "1.0.0.1"), "3.11", "3.2")
	before := snapshot(t, in.Root)
	opt := options(t, in)
	opt.Override.StartTimeout = 60
	opt.Wheels = t.TempDir()
	for _, name := range []string{"wheel", "ldap3", "mod_wsgi", "openpyxl"} {
		pyenvtest.BuildWheel(t, opt.Wheels, pyenvtest.Wheel{Name: name, Version: "1.0"})
	}
	log := runLog(t, &opt)
	stopped := false
	opt.Hook = func(point string, _ int) { stopped = stopped || point == "stopped" }

	_, err := openSession(t, opt).Apply(context.Background(), p)
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != ReasonNewCodeFails || !strings.Contains(err.Error(), "broken_field") {
		t.Fatalf("apply: %v, want a refusal %s quoting Django's error", err, ReasonNewCodeFails)
	}
	lines := log()
	prepared := firstLogLine(lines, "python: preparing the Python 3.11 environment")
	tried := firstLogLine(lines, "run with "+filepath.Join(in.PythonDir()+pyenv.NewVenvSuffix, "bin", "python3"))
	if stopped || prepared < 0 || tried < prepared || firstLogLine(lines, "service stop") >= 0 {
		t.Fatalf("want the environment prepared (line %d), then the Django tried with its python (line %d), and no stop (stopped %v):\n%s",
			prepared, tried, stopped, strings.Join(lines, "\n"))
	}
	if _, err := os.Lstat(in.PythonDir() + pyenv.NewVenvSuffix); !os.IsNotExist(err) {
		t.Fatalf("the prepared environment is left: %v", err)
	}
	sameTree(t, before, snapshot(t, in.Root))
	answers(t, in, "1.0.0.1")
}

// A rollback after the site has written to its database since the update refuses to
// lose that, and then keeps it: with -files-only today's database stays with 1.0.0.1's
// files; with -discard-data the database of before the update is back and today's is
// kept beside it.
func TestRealOMFLOWRollbackKeepsDataEnteredSinceTheUpdate(t *testing.T) {
	for _, choice := range []DataChoice{DataFilesOnly, DataDiscard} {
		t.Run(string(choice), func(t *testing.T) {
			in := realOMFLOW(t, "1.0.0.1")
			dbPath := filepath.Join(in.ProjectDir(), "db.omflow")
			before, _ := os.ReadFile(dbPath)
			p := packRelease(t, extractRelease(t, "1.1.0.0"), "1.1.0.0", extractRelease(t, "1.0.0.1"))
			opt := options(t, in)
			opt.Override.StartTimeout = 60
			if _, err := openSession(t, opt).Apply(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			addSiteData(t, in) // entered under 1.1.0.0
			today, _ := os.ReadFile(dbPath)

			_, err := openSession(t, opt).Rollback(context.Background())
			var refused *outcome.RefusedError
			if !errors.As(err, &refused) || refused.Reason != ReasonDatabaseChangedSince || !strings.Contains(err.Error(), "omuser_omuser 3 rows, 2 before the update") {
				t.Fatalf("rollback: %v, want a refusal %s saying what would be lost", err, ReasonDatabaseChangedSince)
			}
			if now, _ := os.ReadFile(dbPath); !bytes.Equal(now, today) {
				t.Fatal("the refused rollback changed the database")
			}
			loginShows(t, in, "1.1.0.0")

			opt.RollbackData = choice
			rep, err := openSession(t, opt).Rollback(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			answers(t, in, "1.0.0.1")
			loginShows(t, in, "1.0.0.1")
			now, _ := os.ReadFile(dbPath)
			switch choice {
			case DataFilesOnly:
				if !bytes.Equal(now, today) {
					t.Fatal("-files-only did not keep today's database")
				}
			case DataDiscard:
				if !bytes.Equal(now, before) {
					t.Fatal("-discard-data did not put the database of before the update back")
				}
				kept := filepath.Join(in.Root, filepath.FromSlash(rep.DatabaseKept))
				if got := query(t, kept, `select username from omuser_omuser where username = 'site-admin'`); got != "site-admin" {
					t.Fatalf("today's database is not kept as %s (the user entered since: %q)", rep.DatabaseKept, got)
				}
			}
		})
	}
}
