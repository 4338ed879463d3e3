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
	"omflow-upgrade/upgrade/txn"
)

// pythonMove says whether an update moves OMFLOW to a newer Python (SPEC 4.5): the
// version the package requires and the one the installation's environment runs.
type pythonMove struct {
	want, have string
	// oldDir is the installation's Python; old what DetectPython found of it (Windows, or
	// a folder without pyvenv.cfg). newDir is the Windows Python311\ the update wants.
	oldDir, newDir string
	old            install.PythonInfo
	// django is the Django the update requires ("4.2"), or "".
	django string
}

// needsPythonMove compares the package's Python with the installation's. An installation
// without a Python environment (or one whose version cannot be read) has nothing to move.
// A venv's pyvenv.cfg gives the version; a Windows OMFLOW's Python\ has none, so
// install.DetectPython asks python.exe, its python3X.dll or the registry.
func needsPythonMove(ctx context.Context, in *install.Installation, m *pkg.Manifest, logf func(string, ...any)) *pythonMove {
	if m == nil || m.Requires.Python == "" {
		return nil
	}
	dir := in.PythonDir()
	if _, err := os.Stat(dir); err != nil {
		logf("python: the update requires Python %s; no environment at %s to move", m.Requires.Python, dir)
		return nil
	}
	mv := &pythonMove{want: m.Requires.Python, oldDir: dir, django: m.Requires.Django}
	env, err := pyenv.Open(ctx, dir, pyenv.Options{Logf: logf})
	if err == nil {
		mv.have = env.Python
	}
	if mv.have == "" || in.Layout == install.Windows {
		info, derr := install.DetectPython(ctx, dir)
		if derr != nil && mv.have == "" {
			logf("python: the version at %s cannot be read (%v); not moving it", dir, errors.Join(err, derr))
			return nil
		}
		if derr == nil {
			mv.old = info
			if mv.have == "" {
				mv.have = info.Version
			}
			logf("python: %s is Python %s%s, read from %s", dir, info.Version, inParens(info.Arch()), info.From)
		}
	}
	if pyenv.CompareVersions(majorMinor(mv.have), m.Requires.Python) >= 0 {
		return nil
	}
	if in.Layout == install.Windows {
		paths := make([]string, len(m.Files))
		for i, f := range m.Files {
			paths[i] = f.Path
		}
		mv.newDir = in.WindowsPythonDir(m.Requires.Python, paths)
	}
	return mv
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
		checkWindowsPython(ctx, opt, in, p.Manifest, mv, r)
		return
	}
	python, err := pyenv.FindPython(ctx, mv.want)
	if err != nil {
		r.refuse(CheckItem{Name: CheckPython, Reason: reasonOf(err, pyenv.ReasonPythonMissing), Message: err.Error()})
		return
	}
	r.add(CheckItem{Name: CheckPython, OK: true, Reason: ReasonPythonMove, PythonFrom: mv.have, PythonTo: mv.want,
		Message: fmt.Sprintf("OMFLOW moves from Python %s to %s: a new environment is made at %s with %s, the old one goes into the backup",
			mv.have, mv.want, in.PythonDir(), python)})
}

// checkWindowsPython checks the Python311\ the update wants: installed (the seed has the
// administrator run Python's installer; this program does not), of the version the
// update requires and of Apache's bitness. The packages of the old Python that it lacks
// are no refusal: apply installs them before the stop, as on Linux; the check lists them.
func checkWindowsPython(ctx context.Context, opt *Options, in *install.Installation, m *pkg.Manifest, mv *pythonMove, r *CheckReport) {
	nw, err := windowsNewPython(ctx, in, mv)
	if err != nil {
		r.refuse(CheckItem{Name: CheckPython, Reason: reasonOf(err, ReasonPythonUnreadable), Message: err.Error()})
		return
	}
	missing, err := windowsMissing(ctx, mv, opt.logf)
	if err != nil {
		r.refuse(CheckItem{Name: CheckPython, Reason: ReasonPythonUnreadable, Message: err.Error()})
		return
	}
	msg := fmt.Sprintf("OMFLOW moves from Python %s%s at %s to Python %s%s at %s",
		mv.have, inParens(mv.old.Arch()), mv.oldDir, nw.Version, inParens(nw.Arch()), mv.newDir)
	if len(missing) == 0 {
		msg += "; it has every package of the old Python"
	} else {
		from := "the package index (pip online)"
		if opt.Wheels != "" {
			from = opt.Wheels
		}
		msg += fmt.Sprintf("; %d package(s) of the old Python are installed into it from %s before OMFLOW stops: %s",
			len(missing), from, requirementList(missing))
	}
	if _, carried := m.File(httpdConfRel); !carried {
		if conf, err := os.ReadFile(in.HTTPDConf()); err == nil {
			if _, changes := install.RepointHTTPDConf(conf, filepath.Base(mv.newDir), mv.want, nw.Bits); len(changes) > 0 {
				msg += fmt.Sprintf("; Apache's httpd.conf is pointed at it (%d lines)", len(changes))
			}
		}
	}
	r.add(CheckItem{Name: CheckPython, OK: true, Reason: ReasonPythonMove, PythonFrom: mv.have, PythonTo: nw.Version, Message: msg})
}

func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func requirementList(pkgs []pyenv.Package) string {
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		out[i] = p.Requirement()
	}
	return strings.Join(out, " ")
}

// windowsNewPython finds the new Windows Python: its interpreter must be there, of the
// version the update requires, and of Apache's bitness when Apache's program is there.
// What is wrong is a refusal that says what to install, and where.
func windowsNewPython(ctx context.Context, in *install.Installation, mv *pythonMove) (install.PythonInfo, error) {
	apacheBits := 0
	if m, err := install.PEMachineOf(in.ApacheProgram()); err == nil {
		apacheBits = m.Bits()
	}
	arch := install.ArchName(apacheBits)
	if arch == "" {
		arch = mv.old.Arch()
	}
	if arch == "" {
		arch = "32-bit" // OMFLOW's own Apache24 and Python are 32-bit
	}
	exe := filepath.Join(mv.newDir, "python.exe")
	missing := &outcome.RefusedError{Reason: pyenv.ReasonPythonMissing, Err: &pyenv.PythonMissingError{
		Version: mv.want, GOOS: "windows", Looked: []string{exe}, Arch: arch, Dir: pyenv.WindowsShortPath(mv.newDir),
	}}
	if fi, err := os.Stat(exe); err != nil || fi.IsDir() {
		return install.PythonInfo{}, missing
	}
	nw, err := install.DetectPython(ctx, mv.newDir)
	if err != nil {
		return nw, err
	}
	if majorMinor(nw.Version) != mv.want {
		return nw, &outcome.RefusedError{Reason: pyenv.ReasonPythonMissing, Err: fmt.Errorf(
			"%s is Python %s, the update needs Python %s there: %w", mv.newDir, nw.Version, mv.want, missing.Err)}
	}
	if apacheBits != 0 && nw.Bits != 0 && nw.Bits != apacheBits {
		return nw, &outcome.RefusedError{Reason: ReasonPythonBitness, Err: fmt.Errorf(
			"%s is %s Python %s but Apache (%s) is %s, and mod_wsgi cannot load a Python of another bitness: uninstall it, then run the Python %s (%s) Windows installer as administrator, choose \"Customize installation\", install into %s, then check again",
			mv.newDir, nw.Arch(), nw.Version, in.ApacheProgram(), arch, mv.want, arch, pyenv.WindowsShortPath(mv.newDir))}
	}
	return nw, nil
}

// windowsMissing lists the packages of the old Windows Python (its
// Lib\site-packages metadata, read without running it) that the new one lacks, at their
// old versions (the seed's loop), but Django at the version the update requires.
func windowsMissing(ctx context.Context, mv *pythonMove, logf func(string, ...any)) ([]pyenv.Package, error) {
	oldEnv, err1 := pyenv.Open(ctx, mv.oldDir, pyenv.Options{Logf: logf})
	newEnv, err2 := pyenv.Open(ctx, mv.newDir, pyenv.Options{Logf: logf})
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if mv.django == "" {
		return pyenv.Missing(oldEnv, newEnv), nil
	}
	// The release says which Django it runs on: not the old Python's.
	missing := pyenv.Missing(oldEnv, newEnv, "django")
	if _, ok := newEnv.Lookup("django"); !ok {
		missing = append([]pyenv.Package{{Name: "Django", Version: mv.django + ".*"}}, missing...)
	}
	return missing, nil
}

// httpdConfRel is Apache's configuration in a Windows installation.
const httpdConfRel = "Apache24/conf/httpd.conf"

// pointApacheAtPython makes Apache load the new Windows Python after the update. An
// update that carries httpd.conf (replaced or merged) says itself which Python Apache
// loads; otherwise the installed httpd.conf is rewritten (install.RepointHTTPDConf:
// WSGIPythonHome, LoadFile, LoadModule and the paths under the old folder) into the
// staging folder and replaced like the update's files: by a rename in the downtime,
// with the original in the backup. The new Python must be there and fit first: a
// refusal now changes nothing.
func (a *applier) pointApacheAtPython(ctx context.Context, ops []txn.Op, mv *pythonMove) ([]txn.Op, error) {
	nw, err := windowsNewPython(ctx, a.in, mv)
	if err != nil {
		return nil, err
	}
	staged := filepath.Join(a.t.StagingDir(), filepath.FromSlash(httpdConfRel))
	want := filepath.Base(mv.newDir)
	for _, op := range ops {
		if !strings.EqualFold(op.Path, httpdConfRel) || op.Kind == txn.Delete {
			continue
		}
		if home := install.WSGIPythonHome(staged); !strings.EqualFold(home[strings.LastIndexAny(home, `/\`)+1:], want) {
			a.opt.logf("python: the update's httpd.conf loads %q, not %s: Apache stays on it", home, mv.newDir)
		}
		return ops, nil
	}
	conf, err := os.ReadFile(a.in.HTTPDConf())
	if err != nil {
		a.opt.logf("python: %v; Apache is not pointed at %s", err, mv.newDir)
		return ops, nil
	}
	out, changes := install.RepointHTTPDConf(conf, want, mv.want, nw.Bits)
	if len(changes) == 0 {
		a.opt.logf("python: httpd.conf names no Python folder to change; Apache is not pointed at %s", mv.newDir)
		return ops, nil
	}
	if err := os.MkdirAll(filepath.Dir(staged), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(staged, out, 0o644); err != nil {
		return nil, fmt.Errorf("stage %s: %w", httpdConfRel, err)
	}
	for _, c := range changes {
		a.opt.logf("python: httpd.conf: %s", c)
	}
	return append(ops, txn.Op{Kind: txn.Replace, Path: httpdConfRel}), nil
}

// prepareWindowsPython installs into the new Windows Python the packages of the old one
// it lacks, with its own pip (online, or from -wheels DIR with --no-index --find-links),
// while the old service runs: the downtime keeps renames only. Apache moves to the new
// Python with httpd.conf (the update's, or the installed one pointed at it by
// pointApacheAtPython), one of the files the downtime renames. Packages pip installed
// stay in the new Python when the run fails or is rolled back: the old service never
// used it, and the next try needs them.
func (a *applier) prepareWindowsPython(ctx context.Context, mv *pythonMove) error {
	if _, err := windowsNewPython(ctx, a.in, mv); err != nil {
		return err
	}
	missing, err := windowsMissing(ctx, mv, a.opt.logf)
	if err != nil {
		return outcome.Unusable(err)
	}
	if len(missing) == 0 {
		a.opt.logf("python: %s has every package of %s", mv.newDir, mv.oldDir)
		return nil
	}
	python := filepath.Join(mv.newDir, "python.exe")
	a.opt.logf("python: installing %d package(s) of %s into %s while OMFLOW runs: %s", len(missing), mv.oldDir, mv.newDir, requirementList(missing))
	res, err := pyenv.Install(ctx, python, missing, pyenv.InstallOptions{FindLinks: a.opt.Wheels, Logf: a.opt.logf})
	if err == nil {
		a.opt.logf("python: %d package(s) installed into %s", len(res.Installed), mv.newDir)
		return nil
	}
	var refused *outcome.RefusedError
	if errors.As(err, &refused) {
		return err
	}
	for _, f := range res.Failed {
		a.opt.logf("python: %s not installed: %s", f.Requirement(), f.Reason)
	}
	a.opt.logf("python: %v; OMFLOW was not stopped", err)
	return &outcome.FailedError{RolledBack: true, Err: fmt.Errorf("install the old Python's packages into %s: %w", mv.newDir, err)}
}

func reasonOf(err error, fallback Reason) Reason {
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

// preparedPython is the interpreter the new release runs on once preparePython is done:
// the new venv's on Linux, Python311\ (made by Python's installer) on Windows.
func (a *applier) preparedPython(mv *pythonMove) string {
	if a.in.Layout == install.Windows {
		return filepath.Join(mv.newDir, "python.exe")
	}
	if a.data.Python == nil {
		return ""
	}
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
	if a.in.Layout == install.Windows {
		return a.prepareWindowsPython(ctx, mv)
	}
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
		SystemSitePackages: pyenv.SeesSystemSitePackages(a.in.PythonDir()), Required: releaseRequirements(a.p.Manifest)}
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
	if a.in.Layout == install.Windows {
		// Nothing to rename: Python311\ was made by its installer and got its packages
		// before the stop; httpd.conf, in place now, points Apache at it.
		if dir := a.in.PythonDir(); dir != mv.newDir {
			a.opt.logf("python: Apache's httpd.conf still loads %s, not %s: OMFLOW goes on running on Python %s", dir, mv.newDir, mv.have)
		} else {
			a.opt.logf("python: Apache loads %s now", dir)
		}
		return nil
	}
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
