package pyenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"omflow-upgrade/upgrade/outcome"
)

// Refusal reasons of a missing or unfit new Python.
const (
	ReasonPythonMissing outcome.Reason = "python-missing"      // no interpreter of the version the update needs
	ReasonPythonNoVenv  outcome.Reason = "python-venv-missing" // it is there, without venv/ensurepip (python3.11-venv)
)

// PythonMissingError says what to install, and where, when the new Python is not there.
// It is the Err of an *outcome.RefusedError; errors.As finds both.
type PythonMissingError struct {
	Version string   // "3.11"
	GOOS    string   // "linux", "windows"
	Looked  []string // where it was looked for
	NoVenv  string   // an interpreter found without its venv module; "" when none was found

	// Linux: the packages to install (apt, or their .deb files offline with dpkg -i).
	AptPackages []string
	// Windows: the installer to run and the folder to install into (the seed's steps).
	Arch string // "32-bit"
	Dir  string // C:\PROGRA~1\OMFLOW Server\Python311, as the seed writes it
}

func (e *PythonMissingError) Error() string {
	if e.GOOS == "windows" {
		return fmt.Sprintf("Python %s not found (looked for %s): run the Python %s (%s) Windows installer as administrator, choose \"Customize installation\", install into %s, then check again",
			e.Version, strings.Join(e.Looked, ", "), e.Version, e.Arch, e.Dir)
	}
	apt := strings.Join(e.AptPackages, " ")
	if e.NoVenv != "" {
		return fmt.Sprintf("%s has no venv module: install %s (apt-get install -y %s; offline: copy their .deb files to this server and run dpkg -i *.deb)",
			e.NoVenv, apt, apt)
	}
	return fmt.Sprintf("python%s not found (looked for %s): install %s (apt-get install -y %s, on Ubuntu after add-apt-repository ppa:deadsnakes/ppa; offline: copy their .deb files to this server and run dpkg -i *.deb)",
		e.Version, strings.Join(e.Looked, ", "), apt, apt)
}

// LinuxPythonDirs are where FindPython looks for pythonX.Y after the folders of PATH.
var LinuxPythonDirs = []string{"/usr/bin", "/usr/local/bin"}

// FindPython finds a pythonVERSION ("3.11") interpreter that can make venvs, in dirs, in
// order; no dirs means the folders of PATH, then LinuxPythonDirs. When there is none, or
// it lacks venv/ensurepip, the error is a refusal (exit 3) wrapping a
// *PythonMissingError that says what to install.
func FindPython(ctx context.Context, version string, dirs ...string) (string, error) {
	name := "python" + version
	if len(dirs) == 0 {
		dirs = append(filepath.SplitList(os.Getenv("PATH")), LinuxPythonDirs...)
	}
	missing := &PythonMissingError{Version: version, GOOS: "linux", AptPackages: aptPackages(version)}
	seen := map[string]bool{}
	for _, dir := range dirs {
		if dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		p := filepath.Join(dir, name)
		missing.Looked = append(missing.Looked, p)
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		got, venv, err := probePython(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return "", fmt.Errorf("find %s: %w", name, ctx.Err())
			}
			continue
		}
		if got != version {
			continue
		}
		if !venv {
			if missing.NoVenv == "" {
				missing.NoVenv = p
			}
			continue
		}
		return p, nil
	}
	reason := ReasonPythonMissing
	if missing.NoVenv != "" {
		reason = ReasonPythonNoVenv
	}
	return "", &outcome.RefusedError{Reason: reason, Err: missing}
}

// aptPackages are the seed's Debian/Ubuntu packages for pythonVERSION.
func aptPackages(version string) []string {
	name := "python" + version
	return []string{name, name + "-dev", name + "-venv", "python3-pip"}
}

// probePython asks an interpreter for its major.minor version and whether it can make a
// venv with pip (Debian splits venv and ensurepip into pythonX.Y-venv).
func probePython(ctx context.Context, python string) (version string, venv bool, err error) {
	out, err := exec.CommandContext(ctx, python, "-c",
		"import sys\nprint('%d.%d' % sys.version_info[:2])\ntry:\n    import venv, ensurepip\n    print('venv')\nexcept ImportError:\n    print('no-venv')\n").Output()
	if err != nil {
		return "", false, fmt.Errorf("run %q: %w", python, err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		return "", false, fmt.Errorf("run %q: unexpected output %q", python, out)
	}
	return fields[0], fields[1] == "venv", nil
}

// WindowsPythons are the interpreters of a Windows installation: Python\ (OMFLOW before
// 1.2.0.0, 32-bit Python 3.7) and Python311\ (the seed's folder for 1.2.0.0).
type WindowsPythons struct {
	Old string `json:"old"` // ROOT\Python\python.exe, "" when absent
	New string `json:"new"` // ROOT\Python311\python.exe
}

// FindWindowsPythons finds both interpreters under a Windows installation root
// (C:\Program Files\OMFLOW Server). exists reports whether a file exists; nil means
// os.Stat (on Windows; the path logic runs anywhere). When Python311 is absent the error
// is a refusal (exit 3) wrapping a *PythonMissingError that names the installer and the
// folder; Old is "" when there is no old Python (already moved on), which is not an error.
func FindWindowsPythons(root string, exists func(path string) bool) (WindowsPythons, error) {
	if exists == nil {
		exists = func(p string) bool { _, err := os.Stat(p); return err == nil }
	}
	root = strings.TrimRight(strings.ReplaceAll(root, "/", `\`), `\`)
	py := WindowsPythons{New: root + `\Python311\python.exe`}
	if old := root + `\Python\python.exe`; exists(old) {
		py.Old = old
	}
	if !exists(py.New) {
		return py, &outcome.RefusedError{Reason: ReasonPythonMissing, Err: &PythonMissingError{
			Version: "3.11",
			GOOS:    "windows",
			Looked:  []string{py.New},
			Arch:    "32-bit",
			Dir:     WindowsShortPath(root) + `\Python311`,
		}}
	}
	return py, nil
}

// WindowsShortPath writes C:\Program Files\... as the seed does, C:\PROGRA~1\..., the
// 8.3 name Python's installer accepts without quoting; other paths are returned as is.
func WindowsShortPath(p string) string {
	const long = `:\program files\`
	if len(p) > len(long)+1 && strings.EqualFold(p[1:1+len(long)], long) {
		return p[:1] + `:\PROGRA~1\` + p[1+len(long):]
	}
	if len(p) == len(long)+0 && strings.EqualFold(p[1:]+`\`, long) {
		return p[:1] + `:\PROGRA~1`
	}
	return p
}
