package upgrade

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
)

const debianPython = "/usr/bin/python3"

// A small Django project laid out as OMFLOW's server/: manage.py, omflow/settings.py
// with the SQLite database db.omflow, and one app with a model.
var djangoProject = map[string]string{
	"server/manage.py": `import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omflow.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
`,
	"server/omflow/settings.py": `import os
BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = 'test'
INSTALLED_APPS = ['flow']
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': os.path.join(BASE_DIR, 'db.omflow'),
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
`,
	"server/flow/__init__.py":            "",
	"server/flow/migrations/__init__.py": "",
	"server/flow/models.py": `from django.db import models

class Form(models.Model):
    title = models.CharField(max_length=100)
`,
	"server/flow/migrations/0001_initial.py": `from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name='Form', fields=[
            ('id', models.AutoField(primary_key=True, serialize=False)),
            ('title', models.CharField(max_length=100)),
        ]),
    ]
`,
}

func sqliteTables(t *testing.T, db string) string {
	t.Helper()
	out, err := exec.Command(debianPython, "-c",
		"import sqlite3,sys; print(' '.join(sorted(r[0] for r in sqlite3.connect(sys.argv[1]).execute(\"select name from sqlite_master where type='table'\"))))", db).CombinedOutput()
	if err != nil {
		t.Fatalf("read %s: %v %s", db, err, out)
	}
	return strings.TrimSpace(string(out))
}

// newDjangoDemo is a demo installation whose server/ is the small Django project above,
// its database made by migrate.
func newDjangoDemo(t *testing.T) *install.Installation {
	t.Helper()
	if err := demo.CheckDjango(context.Background(), debianPython); err != nil {
		t.Fatalf("%v (make deps-test installs it)", err)
	}
	in := newDemo(t, "", "1.1.6.1")
	for rel, content := range djangoProject {
		p := filepath.Join(in.Root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	os.Remove(filepath.Join(in.Root, "server", "db.omflow"))
	setup := exec.Command(debianPython, "manage.py", "migrate", "--noinput")
	setup.Dir = filepath.Join(in.Root, "server")
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("initial migrate: %v\n%s", err, out)
	}
	return in
}

func TestDjangoMigrationAddsATableAndRollbackRemovesIt(t *testing.T) {
	in := newDjangoDemo(t)
	db := filepath.Join(in.Root, "server", "db.omflow")
	if tables := sqliteTables(t, db); !strings.Contains(tables, "flow_form") || strings.Contains(tables, "flow_ticket") {
		t.Fatalf("tables before: %s", tables)
	}
	dbBefore, _ := os.ReadFile(db)
	before := snapshot(t, in.Root)

	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{
		"server/flow/models.py": djangoProject["server/flow/models.py"] + `
class Ticket(models.Model):
    form = models.ForeignKey(Form, on_delete=models.CASCADE)
    subject = models.CharField(max_length=200)
`,
		"server/flow/migrations/0002_ticket.py": `from django.db import migrations, models
import django.db.models.deletion

class Migration(migrations.Migration):
    dependencies = [('flow', '0001_initial')]
    operations = [
        migrations.CreateModel(name='Ticket', fields=[
            ('id', models.AutoField(primary_key=True, serialize=False)),
            ('subject', models.CharField(max_length=200)),
            ('form', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='flow.form')),
        ]),
    ]
`,
	}})
	opt := options(t, in)
	opt.Override.Python = debianPython
	var lines logLines
	opt.Progress = &lines
	if _, err := openSession(t, opt).Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if tables := sqliteTables(t, db); !strings.Contains(tables, "flow_ticket") {
		t.Fatalf("after the update the table is missing: %s", tables)
	}
	if !strings.Contains(lines.String(), "0002_ticket") {
		t.Fatalf("the migration's output is not in the live log:\n%s", lines.String())
	}
	answers(t, in, "1.1.6.3")

	if _, err := openSession(t, options(t, in)).Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if dbAfter, _ := os.ReadFile(db); !bytes.Equal(dbAfter, dbBefore) {
		t.Fatal("rollback did not give back the database byte for byte")
	}
	if tables := sqliteTables(t, db); strings.Contains(tables, "flow_ticket") {
		t.Fatalf("after rollback: %s", tables)
	}
	sameTree(t, before, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}

// logLines keeps the live log.
type logLines struct {
	NoProgress
	b strings.Builder
}

func (l *logLines) Logf(format string, args ...any) {
	l.b.WriteString(strings.TrimSpace(fmt.Sprintf(format, args...)) + "\n")
}
func (l *logLines) String() string { return l.b.String() }

// A release whose database has a NOT NULL column the site's table lacks: the site's rows
// get Django's model default, and without one the update is refused, naming the column,
// before the service stops.
func TestReleaseColumnGetsTheModelDefaultOrIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		refused     bool
	}{
		{"model default", `code = models.CharField(max_length=10, default="F-1")`, false},
		{"no default", `code = models.CharField(max_length=10)`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newDjangoDemo(t)
			db := filepath.Join(in.Root, "server", "db.omflow")
			site := openDB(t, db)
			if _, err := site.Exec(`insert into flow_form (title) values ('Leave request')`); err != nil {
				t.Fatal(err)
			}
			site.Close()
			releaseDB := filepath.Join(t.TempDir(), "db.omflow")
			rel := openDB(t, releaseDB)
			if _, err := rel.Exec(`CREATE TABLE "flow_form" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(100) NOT NULL, "code" varchar(10) NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			rel.Close()
			releaseBytes, _ := os.ReadFile(releaseDB)
			p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{
				"server/flow/models.py": strings.Replace(djangoProject["server/flow/models.py"],
					"title = models.CharField(max_length=100)", "title = models.CharField(max_length=100)\n    "+tc.field, 1),
				"server/db.omflow": string(releaseBytes),
			}})
			opt := options(t, in)
			opt.Override.Python = debianPython
			before := snapshot(t, in.Root)
			_, err := openSession(t, opt).Apply(context.Background(), p)
			if tc.refused {
				var refused *outcome.RefusedError
				if !errors.As(err, &refused) || refused.Reason != ReasonSchemaUnsafe || !strings.Contains(err.Error(), `"flow_form"`) || !strings.Contains(err.Error(), `"code"`) {
					t.Fatalf("apply: %v, want a refusal %s naming flow_form and code", err, ReasonSchemaUnsafe)
				}
				sameTree(t, before, snapshot(t, in.Root))
				answers(t, in, "1.1.6.1")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := query(t, db, `select title || ' ' || code from flow_form`); got != "Leave request F-1" {
				t.Fatalf("the site's row after the update: %q", got)
			}
			answers(t, in, "1.1.6.3")
		})
	}
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// query returns the first column of a query's rows, joined by spaces.
func query(t *testing.T, path, q string) string {
	t.Helper()
	db := openDB(t, path)
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	db.Close()
	return strings.Join(out, " ")
}
