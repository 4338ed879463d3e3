package upgrade

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/schema"
)

// DatabaseReport is what the update does (or did) to the site's SQLite database: the
// release's tables, columns and indexes it adds, and the Django migrations that run.
type DatabaseReport struct {
	Path    string             `json:"path"`
	Tables  []schema.TableAdd  `json:"tables"`
	Columns []schema.ColumnAdd `json:"columns"`
	Indexes []schema.IndexAdd  `json:"indexes"`
	// Recorded are the release's django_migrations rows the site lacked, recorded
	// because the release's schema already holds what they made.
	Recorded []string `json:"recorded_migrations,omitempty"`
	// Migrations are the migrations manage.py migrate applies, in order.
	Migrations []string `json:"migrations"`
	// Django is true when the new code's Django was set up against a copy first.
	Django bool `json:"django_checked"`
}

// Empty reports whether the update changes nothing in the database.
func (r *DatabaseReport) Empty() bool {
	return len(r.Tables)+len(r.Columns)+len(r.Indexes)+len(r.Recorded)+len(r.Migrations) == 0
}

func (r *DatabaseReport) setChanges(c *schema.Changes) {
	r.Tables, r.Columns, r.Indexes, r.Recorded = c.Tables, c.Columns, c.Indexes, c.Migrations
}

// Summary says in one line what the database gets.
func (r *DatabaseReport) Summary() string {
	if r.Empty() {
		return fmt.Sprintf("the database %s needs no change", r.Path)
	}
	var rows int64
	for _, t := range r.Tables {
		rows += t.Rows
	}
	return fmt.Sprintf("the database %s gets %d new tables (%d rows), %d new columns, %d new indexes and %d migrations",
		r.Path, len(r.Tables), rows, len(r.Columns), len(r.Indexes), len(r.Migrations)+len(r.Recorded))
}

//go:embed django_preflight.py
var djangoScript string

// resultMark starts the line with which django_preflight.py ends.
const resultMark = "OMFLOW-UPGRADE-RESULT "

// dbPreflight brings a copy of the site's database to the release's schema and sets the
// new code's Django up against it, in a work folder of its own, while the old service
// runs: what apply later does to the site's database, tried first.
type dbPreflight struct {
	opt *Options
	in  *install.Installation
	// work holds the copies: release.db (the schema reference), site.db, tree/.
	work string
	// release is the release's database; empty when the package carries none.
	release string
	// python runs the new code; empty when it cannot yet (a Python move).
	python string
	// values are the model defaults of columns that need one (Django's, asked once).
	values schema.Values
	report DatabaseReport
	// old says the code tried is the previous version's (rollback -files-only).
	old bool
}

func (d *dbPreflight) site() string { return filepath.Join(d.work, "site.db") }

// run tries the update on a copy of the database at sitePath, with the new project tree
// laid out by tree. Code that does not set up, or a schema change that is not safe, is a
// refusal; nothing of the site's changes either way.
func (d *dbPreflight) run(ctx context.Context, sitePath string, tree func(dst string) error) error {
	if _, err := copyFile(sitePath, d.site()); err != nil {
		return fmt.Errorf("copy the database %s: %w", sitePath, err)
	}
	project := filepath.Join(d.work, "tree")
	if err := tree(project); err != nil {
		return fmt.Errorf("lay out the new release to try it: %w", err)
	}
	projectDir := filepath.Join(project, projectRel(d.in))
	if d.python != "" {
		if _, err := os.Stat(filepath.Join(projectDir, "manage.py")); err != nil {
			d.python = "" // not a Django project: nothing to set up
		}
	}
	if d.release != "" {
		c, err := d.reconcile(ctx, d.site(), projectDir)
		if err != nil {
			return err
		}
		d.report.setChanges(c)
	}
	if d.python == "" {
		return nil
	}
	d.opt.logf("setting up the new release's Django against a copy of the database (migrate, check)")
	res, err := d.django(ctx, projectDir, "preflight", d.site())
	if err != nil {
		what := "the new release does not start against a copy of the site's database, so the update was not started"
		if d.old {
			what = "the previous version does not start against a copy of today's database"
		}
		return &outcome.RefusedError{Reason: ReasonNewCodeFails, Err: fmt.Errorf("%s: %w", what, err)}
	}
	d.report.Migrations, d.report.Django = res.Migrations, true
	if d.report.Migrations == nil {
		d.report.Migrations = []string{}
	}
	d.opt.logf("preflight: %s; the new release's Django sets up against it", d.report.Summary())
	return nil
}

// reconcile brings the database at db to the release's schema, asking the new code's
// Django for the defaults of columns that need one.
func (d *dbPreflight) reconcile(ctx context.Context, db, projectDir string) (*schema.Changes, error) {
	if d.values == nil {
		site, err := schema.Read(ctx, db)
		if err != nil {
			return nil, outcome.Unusable(fmt.Errorf("the site's database %s cannot be read as SQLite (repair it, or restore it from a backup, before the update): %w", d.report.Path, err))
		}
		release, err := schema.Read(ctx, d.release)
		if err != nil {
			return nil, outcome.Unusable(fmt.Errorf("the update's own database cannot be read as SQLite (the package is damaged or was packed wrongly): %w", err))
		}
		d.values = schema.Values{}
		if need := schema.NeedsValue(site, release); len(need) > 0 && d.python != "" {
			d.opt.logf("asking the new release's Django for the defaults of %s", strings.Join(need, ", "))
			setup := filepath.Join(d.work, "release-setup.db")
			if _, err := copyFile(d.release, setup); err != nil {
				return nil, err
			}
			res, err := d.django(ctx, projectDir, "defaults", setup, need...)
			if err != nil {
				return nil, &outcome.RefusedError{Reason: ReasonNewCodeFails,
					Err: fmt.Errorf("the new release's Django does not start against its own database: %w", err)}
			}
			d.values = res.values()
		}
	}
	c, err := schema.Apply(ctx, db, d.release, d.values)
	var unsafe *schema.UnsafeError
	if errors.As(err, &unsafe) {
		return nil, &outcome.RefusedError{Reason: ReasonSchemaUnsafe,
			Err: fmt.Errorf("the release's database schema cannot be brought to the site's database: %w", err)}
	}
	if err != nil {
		return nil, fmt.Errorf("bring the database to the release's schema: %w", err)
	}
	return c, nil
}

// djangoResult is django_preflight.py's last line.
type djangoResult struct {
	Values     map[string]any `json:"values"`
	Migrations []string       `json:"migrations"`
}

func (r *djangoResult) values() schema.Values {
	out := schema.Values{}
	for k, v := range r.Values {
		out[k] = jsonValue(v)
	}
	return out
}

// jsonValue turns a JSON scalar (decoded with UseNumber) into what SQLite binds: text,
// an integer, a float or NULL.
func jsonValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return f
	}
	return string(n)
}

// django runs django_preflight.py with the new code, its output in the log; the error
// quotes Django's own last line.
func (d *dbPreflight) django(ctx context.Context, projectDir, mode, db string, args ...string) (*djangoResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*d.in.StartTimeout())
	defer cancel()
	d.opt.logf("django %s: run with %s", mode, d.python)
	cmd := exec.CommandContext(ctx, d.python, append([]string{"-c", djangoScript, mode, db}, args...)...)
	cmd.Dir = projectDir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	d.opt.Log.Writer("django " + mode + ": ").Write(out.Bytes())
	var res *djangoResult
	for sc := bufio.NewScanner(bytes.NewReader(out.Bytes())); sc.Scan(); {
		if line, ok := strings.CutPrefix(sc.Text(), resultMark); ok {
			res = &djangoResult{}
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			if jerr := dec.Decode(res); jerr != nil && err == nil {
				err = jerr
			}
		}
	}
	if err == nil && res == nil {
		err = errors.New("it ended without a result")
	}
	if err != nil {
		return nil, fmt.Errorf("%s (%s; the whole output is in the log)", lastLine(out.String()), err)
	}
	return res, nil
}

// lastLine is a child's last non-empty line of output: Python's exception.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// projectRel is the Django project's folder, relative to the root.
func projectRel(in *install.Installation) string {
	rel, _ := filepath.Rel(in.Root, in.ProjectDir())
	return rel
}

// layOutProject copies the installation's Django project into dst/<project> as the
// update leaves it: over it the files under staged/<project> (the update's, already
// decided), without the paths in deleted. The site's folders of run-time files (logs,
// uploads), compiled Python and data files stay out: the copy is for trying, and no
// write of the trial may reach the site's own files.
func layOutProject(in *install.Installation, staged string, deleted map[string]bool, dst string) error {
	rel := projectRel(in)
	skip := func(p string, d fs.DirEntry) bool {
		name := d.Name()
		if d.IsDir() {
			return name == "__pycache__" || name == "logs" || name == "uploads"
		}
		return strings.HasSuffix(name, ".pyc") || strings.HasSuffix(name, ".omflow") || deleted[p]
	}
	copyTree := func(src string) error {
		return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == src {
					return nil
				}
				return err
			}
			r, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			rootRel := filepath.ToSlash(filepath.Join(rel, r))
			target := filepath.Join(dst, rel, r)
			switch {
			case p != src && skip(rootRel, d):
				if !d.IsDir() {
					return nil
				}
				if err := os.MkdirAll(target, 0o755); err != nil {
					return err
				}
				return filepath.SkipDir
			case d.IsDir():
				return os.MkdirAll(target, 0o755)
			case d.Type().IsRegular():
				_, err := copyFile(p, target)
				return err
			}
			return nil // links and other special files are not needed to try the code
		})
	}
	if err := copyTree(in.ProjectDir()); err != nil {
		return err
	}
	return copyTree(filepath.Join(staged, rel))
}
