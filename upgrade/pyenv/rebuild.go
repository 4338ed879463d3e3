package pyenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
)

// DjangoConfCandidates are where Apache's django.conf is looked for, in order (Debian and
// Ubuntu, then RHEL and CentOS). sites-enabled links to sites-available.
var DjangoConfCandidates = []string{
	"/etc/apache2/sites-available/django.conf",
	"/etc/httpd/conf.d/django.conf",
}

// FindDjangoConf returns the first of candidates (DjangoConfCandidates when none are
// given) that exists, symlinks resolved: that file is the one to change.
func FindDjangoConf(candidates ...string) (string, error) {
	if len(candidates) == 0 {
		candidates = DjangoConfCandidates
	}
	for _, c := range candidates {
		if p, err := filepath.EvalSymlinks(c); err == nil {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	return "", outcome.Unusable(fmt.Errorf("find Apache's django.conf: none of %s exists (give its path)", strings.Join(candidates, ", ")))
}

// RebuildOptions describe the Linux 1.2.0.0 venv rebuild.
type RebuildOptions struct {
	// Root is the installation root (/opt/omflow); the venv is Root/python, and the new
	// one is prepared at Root/python.omflow-new (NewVenvSuffix).
	Root string
	// Python is the new interpreter (python3.11); "" finds one with FindPython(PythonVersion).
	Python string
	// PythonVersion is the version the release needs; "" means "3.11".
	PythonVersion string
	// BackupDir receives the old venv (BackupDir/python, moved by rename: it must be on
	// Root's file system), a copy of django.conf, requirements.txt and the state Undo
	// reads. It is part of the update's backup.
	BackupDir string
	// DjangoConf is Apache's django.conf; "" finds it with FindDjangoConf.
	DjangoConf string
	// NoApache skips django.conf (an installation served otherwise).
	NoApache bool
	// Required are the release's packages, pip requirements as written; nil means
	// DefaultRequired.
	Required []string
	// FindLinks is a folder of wheels to install from offline; "" installs online.
	FindLinks string
	// Unpinned installs the old environment's extra packages by name, not at their old
	// versions.
	Unpinned bool
	// BuildIsolation builds source packages offline in pip's isolated environments; the
	// wheel folder must then hold setuptools and wheel too. By default offline builds use
	// the new venv's own setuptools and wheel, as the seed's `python setup.py install` of
	// mod_wsgi does.
	BuildIsolation bool
	// VenvArgs are added to `python -m venv` (e.g. "--system-site-packages").
	VenvArgs []string
	// PipArgs are added to every pip install.
	PipArgs []string
	// Logf receives every step, and pip's output.
	Logf func(format string, args ...any)
}

// Rebuild replaces the venv at Root/python with a new one made by the new Python, with
// the release's packages and the old venv's extra packages, and points Apache's
// django.conf at it. It comes in two steps, so that the update's downtime holds renames
// only (SPEC 4.4):
//
//   - Prepare, while the old service runs: the new venv is made beside the old one, at
//     Root/python.omflow-new (same file system, so it can move by rename), and gets every
//     package (pip, the network, mod_wsgi's build). Nothing the service uses changes.
//   - Swap, between the stop and the start: the old venv goes into BackupDir, the new one
//     to Root/python (two renames), and django.conf is rewritten (one small file).
//
// Do is both. Undo puts the old venv and django.conf back byte for byte and removes the
// new venv, after a Prepare or a Swap that failed at any step, or completed, or was
// killed (Undo reads what was done from BackupDir, so a new Rebuild with the same options
// can undo).
//
// A venv is not relocatable by rename: pip's scripts (bin/pip...) start with
// "#!Root/python.omflow-new/bin/python", bin/activate* set VIRTUAL_ENV to it and
// pyvenv.cfg's "command =" line names it (what Debian's python3.11 -m venv writes; the
// prompt, the folder's name by default, is given as "python" with --prompt). The
// interpreter itself is not bound to its path (bin/python is a symlink to the system's
// python3.11, and pyvenv.cfg is found beside it), and every install runs
// "bin/python -m pip", never bin/pip. So once pip is done, Prepare rewrites the sibling
// path into the final one in those few text files (bin/*, pyvenv.cfg, site-packages/*.pth):
// the new venv is then exactly what "python3.11 -m venv Root/python" would have made, and
// Swap has nothing left to do but renames. (Compiled *.pyc files keep the sibling path as
// their source name; that shows only in tracebacks, and they are rewritten when their
// source changes.)
type Rebuild struct {
	opts RebuildOptions

	// After Prepare (or Do), what it did (also after a failed one, as far as it got).
	Extras     []Package     // the old venv's packages the release does not bring
	Install    InstallResult // pip's outcome; Install.Failed says what could not be installed
	WSGIModule string        // the mod_wsgi module django.conf loads (under Root/python)
	Changes    []string      // after Swap: django.conf lines changed, as "old -> new"
}

// rebuildState is BackupDir/rebuild.json: what Undo needs, written before the first change.
type rebuildState struct {
	Venv string `json:"venv"`
	// NewVenv is where Prepare makes the new venv (Venv + NewVenvSuffix); absent in the
	// states of the one-step rebuild, which made it in place.
	NewVenv        string      `json:"new_venv,omitempty"`
	DjangoConf     string      `json:"django_conf,omitempty"`
	DjangoConfMode fs.FileMode `json:"django_conf_mode,omitempty"`
}

// NewVenvSuffix names the new venv while it is prepared beside the old one.
const NewVenvSuffix = ".omflow-new"

const (
	stateFile     = "rebuild.json"
	oldVenvName   = "python"
	confCopyName  = "django.conf"
	requirementsF = "requirements.txt"
)

// NewRebuild checks the options; nothing is changed.
func NewRebuild(opts RebuildOptions) (*Rebuild, error) {
	if opts.Root == "" || opts.BackupDir == "" {
		return nil, outcome.Unusable(errors.New("python venv rebuild: the installation root and the backup folder are required"))
	}
	if opts.PythonVersion == "" {
		opts.PythonVersion = "3.11"
	}
	if opts.Required == nil {
		opts.Required = DefaultRequired
	}
	return &Rebuild{opts: opts}, nil
}

func (r *Rebuild) logf(format string, args ...any) {
	if r.opts.Logf != nil {
		r.opts.Logf(format, args...)
	}
}

func (r *Rebuild) venv() string { return filepath.Join(r.opts.Root, "python") }

// NewVenv is where Prepare makes the new venv, beside Root/python.
func (r *Rebuild) NewVenv() string { return r.venv() + NewVenvSuffix }

// Do is Prepare then Swap: the rebuild in one step. On error the installation may be half
// changed: call Undo.
func (r *Rebuild) Do(ctx context.Context) error {
	if err := r.Prepare(ctx); err != nil {
		return err
	}
	return r.Swap(ctx)
}

// Prepare makes the new venv at NewVenv with every package, while the old one and the
// service go on: Root/python and django.conf are not touched. On error call Undo (it
// removes what Prepare made). A missing Python is a refusal before any change; a package
// pip cannot install fails Prepare with an error wrapping ErrInstallFailed
// (r.Install.Failed says which and why).
func (r *Rebuild) Prepare(ctx context.Context) error {
	o := r.opts
	venv, newVenv := r.venv(), r.NewVenv()
	if _, err := os.Stat(filepath.Join(o.BackupDir, oldVenvName)); err == nil {
		return fmt.Errorf("rebuild python venv %q: %q already holds a venv: undo or remove it first", venv, o.BackupDir)
	}
	if _, err := os.Lstat(newVenv); err == nil {
		return fmt.Errorf("rebuild python venv %q: %q is in the way of the new venv: remove it first", venv, newVenv)
	}

	// Everything that can fail without changing anything comes first.
	python := o.Python
	if python == "" {
		p, err := FindPython(ctx, o.PythonVersion)
		if err != nil {
			return err
		}
		python = p
	}
	if v, venvOK, err := probePython(ctx, python); err != nil {
		return outcome.Unusable(fmt.Errorf("rebuild python venv: %w", err))
	} else if v != o.PythonVersion {
		return outcome.Unusable(fmt.Errorf("rebuild python venv: %q is Python %s, want %s", python, v, o.PythonVersion))
	} else if !venvOK {
		return &outcome.RefusedError{Reason: ReasonPythonNoVenv, Err: &PythonMissingError{
			Version: o.PythonVersion, GOOS: "linux", Looked: []string{python}, NoVenv: python,
			AptPackages: aptPackages(o.PythonVersion),
		}}
	}
	old, err := Open(ctx, venv, Options{Logf: o.Logf})
	if err != nil {
		return err
	}

	state := rebuildState{Venv: venv, NewVenv: newVenv}
	var conf []byte
	if !o.NoApache {
		state.DjangoConf = o.DjangoConf
		if state.DjangoConf == "" {
			if state.DjangoConf, err = FindDjangoConf(); err != nil {
				return err
			}
		} else if p, err := filepath.EvalSymlinks(state.DjangoConf); err == nil {
			state.DjangoConf = p
		}
		fi, err := os.Stat(state.DjangoConf)
		if err != nil {
			return outcome.Unusable(fmt.Errorf("read Apache config %q: %w", state.DjangoConf, err))
		}
		state.DjangoConfMode = fi.Mode().Perm()
		if conf, err = os.ReadFile(state.DjangoConf); err != nil {
			return outcome.Unusable(fmt.Errorf("read Apache config %q: %w", state.DjangoConf, err))
		}
	}

	// The backup and the state, then the first change.
	if err := os.MkdirAll(o.BackupDir, 0o700); err != nil {
		return fmt.Errorf("create backup folder %q: %w", o.BackupDir, err)
	}
	if conf != nil {
		if err := writeFileSync(filepath.Join(o.BackupDir, confCopyName), conf, 0o600); err != nil {
			return fmt.Errorf("back up Apache config %q: %w", state.DjangoConf, err)
		}
	}
	data, _ := json.Marshal(state)
	if err := writeFileSync(filepath.Join(o.BackupDir, stateFile), data, 0o600); err != nil {
		return fmt.Errorf("write rebuild state in %q: %w", o.BackupDir, err)
	}

	// The prompt of bin/activate* is the folder's name unless told: the final one.
	args := append(append([]string{"-m", "venv", "--prompt", filepath.Base(venv)}, o.VenvArgs...), newVenv)
	r.logf("run %s %s (the new venv, beside the old one while OMFLOW runs)", python, strings.Join(args, " "))
	if out, err := exec.CommandContext(ctx, python, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("create venv %q with %q: %w: %s", newVenv, python, err, strings.TrimSpace(string(out)))
	}
	// What the new venv lacks: every package of the old one, less what it sees already
	// (the system's, when both are made with --system-site-packages).
	fresh, err := Open(ctx, newVenv, Options{Logf: o.Logf})
	if err != nil {
		return err
	}
	r.Extras = Missing(old, fresh, o.Required...)
	r.logf("old venv %s: %d packages, %d to carry over: %v", venv, len(old.Dists), len(r.Extras), r.Extras)

	pkgs := make([]Package, 0, len(o.Required)+len(r.Extras))
	for _, req := range o.Required {
		pkgs = append(pkgs, Package{Name: req}) // as written: "django==4.2"
	}
	for _, p := range r.Extras {
		if o.Unpinned {
			p.Version = ""
		}
		pkgs = append(pkgs, p)
	}
	newPython := filepath.Join(newVenv, "bin", "python")
	pipArgs := o.PipArgs
	if o.FindLinks != "" && !o.BuildIsolation {
		pipArgs = append(append([]string{}, pipArgs...), "--no-build-isolation")
	}
	// The installers first, as the seed does (`pip install wheel`), so that source
	// packages such as mod_wsgi's tarball build with them.
	var tooling []Package
	for _, p := range pkgs {
		if isTooling(p.Name) {
			tooling = append(tooling, p)
		}
	}
	if len(tooling) > 0 {
		r.Install, err = Install(ctx, newPython, tooling, InstallOptions{FindLinks: o.FindLinks, PipArgs: o.PipArgs, Logf: o.Logf})
		if err != nil {
			return fmt.Errorf("rebuild python venv %q: %w", venv, err)
		}
	}
	r.Install, err = Install(ctx, newPython, pkgs, InstallOptions{
		FindLinks:    o.FindLinks,
		Requirements: filepath.Join(o.BackupDir, requirementsF),
		PipArgs:      pipArgs,
		Logf:         o.Logf,
	})
	if err != nil {
		return fmt.Errorf("rebuild python venv %q: %w", venv, err)
	}

	fixed, err := relocateVenv(newVenv, venv)
	if err != nil {
		return fmt.Errorf("point the new venv %q at %q: %w", newVenv, venv, err)
	}
	r.logf("new venv %s ready; %d files rewritten to name %s", newVenv, len(fixed), venv)
	r.WSGIModule = finalPath(findWSGIModule(newVenv, o.PythonVersion), newVenv, venv)
	return nil
}

// Swap puts the venv Prepare made in place of the old one, which goes into BackupDir,
// and points django.conf at it: renames, and one small file rewritten. It reads what to
// do from BackupDir, so any Rebuild with the same options can swap what another prepared.
// On error call Undo.
func (r *Rebuild) Swap(ctx context.Context) error {
	o := r.opts
	state, err := r.readState()
	if err != nil {
		return fmt.Errorf("swap python venv: %w", err)
	}
	if state == nil || state.NewVenv == "" {
		return fmt.Errorf("swap python venv %q: nothing prepared in %q", r.venv(), o.BackupDir)
	}
	if fi, err := os.Lstat(state.NewVenv); err != nil || !fi.IsDir() {
		return fmt.Errorf("swap python venv %q: the prepared venv %q is not there (%v)", state.Venv, state.NewVenv, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("swap python venv: %w", err)
	}
	saved := filepath.Join(o.BackupDir, oldVenvName)
	r.logf("move old venv %s to %s, new venv %s to %s", state.Venv, saved, state.NewVenv, state.Venv)
	if err := os.Rename(state.Venv, saved); err != nil {
		return fmt.Errorf("move old venv %q aside (the backup folder must be on the same file system): %w", state.Venv, err)
	}
	if err := os.Rename(state.NewVenv, state.Venv); err != nil {
		return fmt.Errorf("move new venv %q to %q: %w", state.NewVenv, state.Venv, err)
	}
	if state.DjangoConf == "" {
		return nil
	}
	conf, err := os.ReadFile(filepath.Join(o.BackupDir, confCopyName))
	if err != nil {
		return fmt.Errorf("read saved Apache config: %w", err)
	}
	r.WSGIModule = findWSGIModule(state.Venv, o.PythonVersion)
	newConf, changes := RewriteDjangoConf(conf, r.WSGIModule, o.PythonVersion)
	r.Changes = changes
	if len(changes) == 0 {
		r.logf("%s: no LoadModule wsgi_module or python-path/python-home to change", state.DjangoConf)
		return nil
	}
	for _, c := range changes {
		r.logf("%s: %s", state.DjangoConf, c)
	}
	if err := install.WriteFileAtomic(state.DjangoConf, newConf, state.DjangoConfMode); err != nil {
		return fmt.Errorf("rewrite Apache config %q: %w", state.DjangoConf, err)
	}
	return nil
}

// readState reads BackupDir/rebuild.json: nil when there is none (nothing was changed).
// A state naming other folders than these options is an error: never follow it.
func (r *Rebuild) readState() (*rebuildState, error) {
	path := filepath.Join(r.opts.BackupDir, stateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var state rebuildState
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	if state.Venv != r.venv() {
		return nil, fmt.Errorf("%q records venv %q, not %q", path, state.Venv, r.venv())
	}
	if state.NewVenv != "" && state.NewVenv != r.NewVenv() {
		return nil, fmt.Errorf("%q records new venv %q, not %q", path, state.NewVenv, r.NewVenv())
	}
	return &state, nil
}

// Undo puts the old venv and django.conf back as they were and removes the new venv,
// whatever Prepare and Swap got to. It is safe to call more than once, and after a
// Prepare that never started.
func (r *Rebuild) Undo(ctx context.Context) error {
	o := r.opts
	state, err := r.readState()
	if err != nil {
		return fmt.Errorf("undo python venv rebuild: %w", err)
	}
	if state == nil {
		return nil // Prepare changed nothing
	}
	var errs []error
	saved := filepath.Join(o.BackupDir, oldVenvName)
	if _, err := os.Stat(saved); err == nil {
		// Only with the old venv safe in the backup is the new one removed.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("undo python venv rebuild: %w", err)
		}
		r.logf("remove new venv %s, move %s back", state.Venv, saved)
		if err := os.RemoveAll(state.Venv); err != nil {
			errs = append(errs, fmt.Errorf("remove new venv %q: %w", state.Venv, err))
		} else if err := os.Rename(saved, state.Venv); err != nil {
			errs = append(errs, fmt.Errorf("move old venv %q back to %q: %w", saved, state.Venv, err))
		}
	}
	if state.NewVenv != "" && len(errs) == 0 {
		// A Prepare never swapped, or a Swap stopped between its two renames. The old venv
		// is at Venv again (or never left): what is here is only the new one.
		if _, err := os.Lstat(state.NewVenv); err == nil {
			r.logf("remove the prepared venv %s", state.NewVenv)
			if err := os.RemoveAll(state.NewVenv); err != nil {
				errs = append(errs, fmt.Errorf("remove the prepared venv %q: %w", state.NewVenv, err))
			}
		}
	}
	if state.DjangoConf != "" {
		copyPath := filepath.Join(o.BackupDir, confCopyName)
		if conf, err := os.ReadFile(copyPath); err == nil {
			if cur, err := os.ReadFile(state.DjangoConf); err != nil || !bytes.Equal(cur, conf) {
				r.logf("restore %s from %s", state.DjangoConf, copyPath)
				if err := install.WriteFileAtomic(state.DjangoConf, conf, state.DjangoConfMode); err != nil {
					errs = append(errs, fmt.Errorf("restore Apache config %q: %w", state.DjangoConf, err))
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("read saved Apache config %q: %w", copyPath, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("undo python venv rebuild: %w", errors.Join(errs...))
	}
	return nil
}

// relocateVenv rewrites from (the venv's folder) into to in the venv's text files that
// name it: bin/*'s shebangs and activate scripts, pyvenv.cfg, site-packages' *.pth. It
// returns the files it rewrote. Symlinks (bin/python) and binary files are left alone.
func relocateVenv(venv, to string) ([]string, error) {
	var files []string
	bin, _ := filepath.Glob(filepath.Join(venv, "bin", "*"))
	files = append(files, bin...)
	files = append(files, filepath.Join(venv, "pyvenv.cfg"))
	pth, _ := filepath.Glob(filepath.Join(venv, "lib", "python*", "site-packages", "*.pth"))
	files = append(files, pth...)
	from := []byte(venv)
	var fixed []string
	for _, f := range files {
		fi, err := os.Lstat(f)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return fixed, err
		}
		if !bytes.Contains(b, from) || bytes.IndexByte(b, 0) >= 0 {
			continue
		}
		if err := install.WriteFileAtomic(f, bytes.ReplaceAll(b, from, []byte(to)), fi.Mode().Perm()); err != nil {
			return fixed, err
		}
		fixed = append(fixed, f)
	}
	return fixed, nil
}

// finalPath is p, a path under from, as it will be once from is renamed to to.
func finalPath(p, from, to string) string {
	if rel, err := filepath.Rel(from, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.Join(to, rel)
	}
	return p
}

// findWSGIModule is mod_wsgi's Apache module in the new venv
// (.../site-packages/mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so), or
// where it will be by the usual name when pip put it nowhere to be seen.
func findWSGIModule(venv, version string) string {
	matches, _ := filepath.Glob(filepath.Join(venv, "lib", "python*", "site-packages", "mod_wsgi", "server", "mod_wsgi*.so"))
	if len(matches) > 0 {
		return matches[0]
	}
	nodot := strings.ReplaceAll(version, ".", "")
	machine := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i386"}[runtime.GOARCH]
	if machine == "" {
		machine = runtime.GOARCH
	}
	return filepath.Join(venv, "lib", "python"+version, "site-packages", "mod_wsgi", "server",
		fmt.Sprintf("mod_wsgi-py%s.cpython-%s-%s-linux-gnu.so", nodot, nodot, machine))
}

var (
	loadModuleLine = regexp.MustCompile(`^(\s*LoadModule\s+wsgi_module\s+)("[^"]*"|\S+)(.*)$`)
	pythonDirLine  = regexp.MustCompile(`(?i)python-path\s*=|python-home\s*=|WSGIPythonPath|WSGIPythonHome`)
	pythonXY       = regexp.MustCompile(`python3\.\d+`)
	cpythonXY      = regexp.MustCompile(`cpython-3\d+`)
)

// RewriteDjangoConf points Apache's django.conf at a new venv: the LoadModule wsgi_module
// line loads wsgiModule, and the python-path=/python-home (WSGIPythonPath/WSGIPythonHome)
// parts name python<version> ("python3.8" -> "python3.11", "cpython-38" -> "cpython-311").
// Every other byte, line endings included, is kept. changes lists each changed line as
// "old -> new".
func RewriteDjangoConf(conf []byte, wsgiModule, version string) (out []byte, changes []string) {
	nodot := strings.ReplaceAll(version, ".", "")
	lines := strings.SplitAfter(string(conf), "\n")
	for i, full := range lines {
		body := strings.TrimRight(full, "\r\n")
		end := full[len(body):]
		line := body
		if m := loadModuleLine.FindStringSubmatch(line); m != nil && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			module := wsgiModule
			if strings.ContainsAny(module, " \t") || strings.HasPrefix(m[2], `"`) {
				module = `"` + module + `"`
			}
			line = m[1] + module + m[3]
		} else if pythonDirLine.MatchString(line) {
			line = pythonXY.ReplaceAllString(line, "python"+version)
			line = cpythonXY.ReplaceAllString(line, "cpython-"+nodot)
		}
		if line != body {
			changes = append(changes, strings.TrimSpace(body)+" -> "+strings.TrimSpace(line))
			lines[i] = line + end
		}
	}
	return []byte(strings.Join(lines, "")), changes
}

// writeFileSync writes a file and syncs it: a backup that is not on disk is no backup.
func writeFileSync(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
