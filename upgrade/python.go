package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/pyenv"
)

// pythonMove says whether an update moves OMFLOW to a newer Python (SPEC 4.5): the
// version the package requires and the one the installation's environment runs.
type pythonMove struct {
	want, have string
}

// needsPythonMove compares the package's Python with the installation's. An installation
// without a Python environment (or one whose version cannot be read) has nothing to move.
func needsPythonMove(ctx context.Context, in *install.Installation, m *pkg.Manifest, logf func(string, ...any)) *pythonMove {
	if m == nil || m.Requires.Python == "" {
		return nil
	}
	if _, err := os.Stat(in.PythonDir()); err != nil {
		logf("python: the update requires Python %s; no environment at %s to move", m.Requires.Python, in.PythonDir())
		return nil
	}
	env, err := pyenv.Open(ctx, in.PythonDir(), pyenv.Options{Logf: logf})
	if err != nil || env.Python == "" {
		logf("python: the version at %s cannot be read (%v); not moving it", in.PythonDir(), err)
		return nil
	}
	if pyenv.CompareVersions(majorMinor(env.Python), m.Requires.Python) >= 0 {
		return nil
	}
	return &pythonMove{want: m.Requires.Python, have: env.Python}
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

// checkPython adds the Python check: the new interpreter must be there (Linux: to make
// the new venv; Windows: Python311\ with every package the old Python had).
func checkPython(ctx context.Context, opt *Options, in *install.Installation, p *pkg.Package, r *CheckReport) {
	mv := needsPythonMove(ctx, in, p.Manifest, opt.logf)
	if mv == nil {
		return
	}
	if in.Layout == install.Windows {
		checkWindowsPython(ctx, in, mv, r)
		return
	}
	python, err := pyenv.FindPython(ctx, mv.want)
	if err != nil {
		r.refuse(CheckItem{Name: CheckPython, Reason: reasonOf(err, pyenv.ReasonPythonMissing), Message: err.Error()})
		return
	}
	r.add(CheckItem{Name: CheckPython, OK: true, Reason: "python-move",
		Message: fmt.Sprintf("OMFLOW moves from Python %s to %s: a new environment is made at %s with %s, the old one goes into the backup",
			mv.have, mv.want, in.PythonDir(), python)})
}

// checkWindowsPython is the seed's loop: Python311\ must be installed and hold every
// package the old Python has.
func checkWindowsPython(ctx context.Context, in *install.Installation, mv *pythonMove, r *CheckReport) {
	pys, err := pyenv.FindWindowsPythons(in.Root, func(p string) bool {
		_, err := os.Stat(nativePath(p))
		return err == nil
	})
	if err != nil {
		r.refuse(CheckItem{Name: CheckPython, Reason: reasonOf(err, pyenv.ReasonPythonMissing), Message: err.Error()})
		return
	}
	if pys.Old == "" {
		r.add(CheckItem{Name: CheckPython, OK: true, Message: "Python311 is installed"})
		return
	}
	oldEnv, err1 := pyenv.Open(ctx, filepath.Dir(nativePath(pys.Old)), pyenv.Options{})
	newEnv, err2 := pyenv.Open(ctx, filepath.Dir(nativePath(pys.New)), pyenv.Options{})
	if err := errors.Join(err1, err2); err != nil {
		r.refuse(CheckItem{Name: CheckPython, Reason: "python-unreadable", Message: err.Error()})
		return
	}
	rep := pyenv.NewReport(oldEnv, newEnv, "windows")
	if err := rep.Err(); err != nil {
		r.refuse(CheckItem{Name: CheckPython, Reason: reasonOf(err, "python-packages-missing"),
			Message: fmt.Sprintf("%v; install them with: %s", err, rep.Command)})
		return
	}
	r.add(CheckItem{Name: CheckPython, OK: true, Message: "Python311 has every package of the old Python"})
}

// nativePath turns the backslashes of a Windows path built by pyenv into this system's
// separators (the Windows layout's logic also runs, and is tested, on Linux).
func nativePath(p string) string {
	if filepath.Separator == '/' {
		return strings.ReplaceAll(p, `\`, "/")
	}
	return p
}

func reasonOf(err error, fallback string) string {
	var refused *outcome.RefusedError
	if errors.As(err, &refused) && refused.Reason != "" {
		return refused.Reason
	}
	return fallback
}

// pythonData is what the journal keeps of a venv rebuild, so that a rollback, a recovery
// or a later rollback command can undo it.
type pythonData struct {
	Python     string `json:"python"`
	Version    string `json:"version"`
	BackupDir  string `json:"backup_dir"`
	DjangoConf string `json:"django_conf,omitempty"`
	// SystemSitePackages: the old venv sees the system's packages, so the new one does.
	SystemSitePackages bool `json:"system_site_packages,omitempty"`
	// Required are the release's own packages; nil is the seed's list (pyenv.DefaultRequired).
	Required []string `json:"required,omitempty"`
}

func (d *pythonData) rebuild(in *install.Installation, opt *Options) (*pyenv.Rebuild, error) {
	var venvArgs []string
	if d.SystemSitePackages {
		venvArgs = []string{"--system-site-packages"}
	}
	return pyenv.NewRebuild(pyenv.RebuildOptions{
		Root: in.Root, Python: d.Python, PythonVersion: d.Version, BackupDir: d.BackupDir,
		DjangoConf: d.DjangoConf, NoApache: d.DjangoConf == "", FindLinks: opt.Wheels, Logf: opt.logf,
		VenvArgs: venvArgs, Required: d.Required,
	})
}

// releaseRequirements are the packages the release's environment installs: the seed's
// list, with Django at the release's own series when the manifest names one ("3.2" is
// "django==3.2.*": its security releases included).
func releaseRequirements(m *pkg.Manifest) []string {
	if m.Requires.Django == "" {
		return nil
	}
	req := make([]string, 0, len(pyenv.DefaultRequired))
	for _, r := range pyenv.DefaultRequired {
		if name, _, _ := strings.Cut(r, "=="); pyenv.NormalizeName(name) == "django" {
			r = "django==" + m.Requires.Django + ".*"
		}
		req = append(req, r)
	}
	return req
}

// seesSystemSitePackages says whether the venv at dir was made with
// --system-site-packages (its pyvenv.cfg says include-system-site-packages = true): the
// new venv is made alike, or the packages the site takes from the system would be gone.
func seesSystemSitePackages(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "pyvenv.cfg"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "include-system-site-packages") {
			return strings.EqualFold(strings.TrimSpace(v), "true")
		}
	}
	return false
}

// preparedPython is the interpreter of the venv preparePython made.
func (a *applier) preparedPython() string {
	rb, err := a.data.Python.rebuild(a.in, a.opt)
	if err != nil {
		return ""
	}
	return filepath.Join(rb.NewVenv(), "bin", "python3")
}

// undoPython puts the old venv and django.conf back, when the run moved Python.
func undoPython(ctx context.Context, opt *Options, in *install.Installation, d *pythonData) error {
	if d == nil {
		return nil
	}
	rb, err := d.rebuild(in, opt)
	if err != nil {
		return err
	}
	if err := rb.Undo(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("put the old Python environment back: %w", err)
	}
	return nil
}

// preparePython makes the new Linux venv for the new Python beside the old one, with
// every package (SPEC 1, the seed's manual 1.2.0.0 steps), while the old service still
// runs (SPEC 4.4: pip, the network and mod_wsgi's build are no downtime). It runs after
// the journal is written, so that a crash leaves a record that recover undoes. A failure
// removes what it made and leaves the service alone: the run then ends as rolled back
// (nothing of the installation was changed), or refused when the new interpreter is
// missing.
func (a *applier) preparePython(ctx context.Context, mv *pythonMove) error {
	python, err := pyenv.FindPython(ctx, mv.want)
	if err != nil {
		return err
	}
	conf := a.in.Config.ApacheConf
	if conf == "" {
		if found, err := pyenv.FindDjangoConf(); err == nil {
			conf = found
		} else {
			a.opt.logf("python: %v; Apache's wsgi_module line is left alone", err)
		}
	}
	d := &pythonData{Python: python, Version: mv.want, BackupDir: filepath.Join(a.t.BackupDir(), "python-rebuild"), DjangoConf: conf,
		SystemSitePackages: seesSystemSitePackages(a.in.PythonDir()), Required: releaseRequirements(a.p.Manifest)}
	a.data.Python = d
	if err := a.saveData(ctx); err != nil {
		return err
	}
	rb, err := d.rebuild(a.in, a.opt)
	if err != nil {
		return err
	}
	a.opt.logf("python: preparing the Python %s environment for %s beside it, at %s, while OMFLOW runs (%s)", mv.want, a.in.PythonDir(), rb.NewVenv(), python)
	err = rb.Prepare(ctx)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("make the Python %s environment: %w", mv.want, err)
	var refused *outcome.RefusedError
	var unusable *outcome.UnusableError
	if uerr := rb.Undo(context.WithoutCancel(ctx)); uerr != nil {
		return &outcome.FailedError{Err: fmt.Errorf("%w; %v", err, uerr),
			Manual: fmt.Sprintf("remove %s; OMFLOW was not stopped and its files are unchanged", rb.NewVenv())}
	}
	if errors.As(err, &refused) || errors.As(err, &unusable) {
		return err // found before any change
	}
	a.opt.logf("python: %v; the prepared environment is removed, OMFLOW was not stopped", err)
	return &outcome.FailedError{RolledBack: true, Err: err}
}

// dropPreparedPython removes the venv preparePython made when the run ends without having
// swapped it in (the stop failed, a file was held): the old service never stopped using
// the old one. After a swap there is nothing left to remove.
func (a *applier) dropPreparedPython() {
	if a.data.Python == nil {
		return
	}
	rb, err := a.data.Python.rebuild(a.in, a.opt)
	if err != nil {
		return
	}
	newVenv := rb.NewVenv()
	if _, err := os.Lstat(newVenv); err != nil {
		return
	}
	a.opt.logf("python: remove the prepared environment %s (not swapped in)", newVenv)
	if err := os.RemoveAll(newVenv); err != nil {
		a.opt.logf("python: remove %s: %v", newVenv, err)
	}
}

// movePython swaps the prepared venv in, in the downtime: the old venv goes into the
// run's backup and the new one to python/ by rename, and django.conf is pointed at it.
func (a *applier) movePython(ctx context.Context, mv *pythonMove) error {
	d := a.data.Python
	if d == nil {
		return fmt.Errorf("move to Python %s: no environment was prepared", mv.want)
	}
	rb, err := d.rebuild(a.in, a.opt)
	if err != nil {
		return err
	}
	a.opt.logf("python: moving %s from Python %s to %s", a.in.PythonDir(), mv.have, mv.want)
	if err := rb.Swap(ctx); err != nil {
		return fmt.Errorf("put the Python %s environment in place: %w", mv.want, err)
	}
	return nil
}
