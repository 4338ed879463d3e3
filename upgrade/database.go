package upgrade

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/runlog"
	"omflow-upgrade/upgrade/txn"
)

// database is what settings.py says of the site's database.
type database struct {
	engine string // Django ENGINE, e.g. django.db.backends.sqlite3
	path   string // the SQLite file, root-relative; "" for another engine
}

func (d database) sqlite() bool { return strings.HasSuffix(d.engine, "sqlite3") }

var (
	engineRE  = regexp.MustCompile(`['"]ENGINE['"]\s*:\s*['"]([^'"]+)['"]`)
	nameRE    = regexp.MustCompile(`['"]NAME['"]\s*:\s*(.+?)\s*,?\s*$`)
	joinRE    = regexp.MustCompile(`^os\.path\.join\(\s*BASE_DIR\s*,\s*['"]([^'"]+)['"]\s*\)$`)
	literalRE = regexp.MustCompile(`^['"]([^'"]+)['"]$`)
)

// readDatabase reads the default database's ENGINE and, for SQLite, its file from the
// installation's settings.py. OMFLOW's default is os.path.join(BASE_DIR, 'db.omflow').
func readDatabase(in *install.Installation) (database, error) {
	settings := filepath.Join(in.ProjectDir(), "omflow", "settings.py")
	b, err := readOptional(settings)
	if err != nil {
		return database{}, fmt.Errorf("read %q: %w", settings, err)
	}
	if b == nil {
		return database{}, nil
	}
	text := string(b)
	i := strings.Index(text, "DATABASES")
	if i < 0 {
		return database{}, nil
	}
	text = text[i:]
	m := engineRE.FindStringSubmatch(text)
	if m == nil {
		return database{}, nil
	}
	d := database{engine: m[1]}
	if !d.sqlite() {
		return d, nil
	}
	name := ""
	for _, line := range strings.Split(text, "\n") {
		if nm := nameRE.FindStringSubmatch(strings.TrimSpace(line)); nm != nil {
			name = strings.TrimSpace(nm[1])
			break
		}
	}
	project := in.Layout.VersionFileRel()[:strings.Index(in.Layout.VersionFileRel(), "/")]
	switch {
	case joinRE.MatchString(name):
		d.path = project + "/" + joinRE.FindStringSubmatch(name)[1]
	case literalRE.MatchString(name):
		p := literalRE.FindStringSubmatch(name)[1]
		if filepath.IsAbs(p) {
			if rel, err := filepath.Rel(in.Root, p); err == nil && filepath.IsLocal(rel) {
				d.path = filepath.ToSlash(rel)
			}
		} else {
			d.path = project + "/" + filepath.ToSlash(p)
		}
	default:
		d.path = project + "/db.omflow"
	}
	return d, nil
}

// stageDatabase copies the SQLite database into the staging folder, so that the update
// puts a copy in its place and keeps the original in the backup: a failed migration,
// start or health check gets the database back byte for byte, by rename.
func stageDatabase(in *install.Installation, staging, rel string) (os.FileInfo, error) {
	src := abs(in, rel)
	dst := filepath.Join(staging, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	return copyFile(src, dst)
}

// copyFile copies src to dst with src's mode and returns src's state as copied. An
// existing dst is rewritten in place, not replaced: the database copied again after the
// stop (refreshDatabase) keeps the owner, group and label Prepare gave the staged copy.
func copyFile(src, dst string) (os.FileInfo, error) {
	if err := notPlantedLink(src); err != nil {
		return nil, outcome.Unusable(err)
	}
	return install.CopyFile(src, dst, 0)
}

// refreshDatabase copies the database again after the service stopped, when the
// service wrote to it since the first copy.
func refreshDatabase(in *install.Installation, staging, rel string, copied os.FileInfo) error {
	st, err := os.Stat(abs(in, rel))
	if err != nil {
		return err
	}
	if st.Size() == copied.Size() && st.ModTime().Equal(copied.ModTime()) {
		return nil
	}
	_, err = stageDatabase(in, staging, rel)
	return err
}

// databaseOp adds the database to the update's operations (see stageDatabase).
func databaseOp(rel string) txn.Op { return txn.Op{Kind: txn.Replace, Path: rel} }

// migrate runs Django's migrations with the installation's Python, output in the log.
func migrate(ctx context.Context, opt *Options, in *install.Installation, prog Progress) error {
	python := in.Python()
	cmd := exec.CommandContext(ctx, python, "manage.py", "migrate", "--noinput")
	cmd.Dir = in.ProjectDir()
	w := progressLines(opt.Log.Writer("migrate: "), prog)
	cmd.Stdout, cmd.Stderr = w, w
	opt.logf("running %s manage.py migrate --noinput in %s", python, cmd.Dir)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s manage.py migrate --noinput: %w (its output is in the log)", python, err)
	}
	return nil
}

// progressLines copies a child's output to the log and, line by line, to the live log.
func progressLines(log io.Writer, prog Progress) io.Writer {
	return io.MultiWriter(log, runlog.Lines(func(s string) { prog.Logf("%s", s) }))
}
