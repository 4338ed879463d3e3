package pyenv

import (
	"fmt"
	"strings"

	"omflow-upgrade/upgrade/outcome"
)

// Package is a distribution to install: a name and the version the old environment had.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Requirement is the pip requirement pinning p: "name==version", or the bare name when the
// version is unknown.
func (p Package) Requirement() string {
	if p.Version == "" {
		return p.Name
	}
	return p.Name + "==" + p.Version
}

// Tooling is never "missing": every new environment brings its own installers.
var Tooling = []string{"pip", "setuptools", "wheel"}

// ReasonPackagesMissing is the refusal reason of a new environment that lacks packages the
// old one had (exit 3 until they are installed).
const ReasonPackagesMissing outcome.Reason = "python-packages-missing"

// Missing lists what the new environment lacks compared with the old one, by PEP 503 name,
// with names and versions as the old environment spells them, sorted by name. pip,
// setuptools, wheel and the names in provided (what the new release installs itself, e.g.
// "django", "mod_wsgi") are never missing. A package the new environment has in another
// version is not missing.
func Missing(old, new *Env, provided ...string) []Package {
	skip := skipSet(provided)
	missing := []Package{}
	for _, d := range old.Dists {
		if skip[d.Key] {
			continue
		}
		if _, ok := new.Lookup(d.Key); !ok {
			missing = append(missing, Package{Name: d.Name, Version: d.Version})
		}
	}
	sortPackages(missing)
	return missing
}

// Older is a package the new environment has in an older version than the old one had
// (PEP 440 order): not missing, but worth a look.
type Older struct {
	Name string `json:"name"` // as the old environment spells it
	Old  string `json:"old"`
	New  string `json:"new"`
}

// OlderIn lists the packages new has in an older version than old, sorted by name, with
// the same exclusions as Missing.
func OlderIn(old, new *Env, provided ...string) []Older {
	skip := skipSet(provided)
	var older []Older
	for _, d := range old.Dists {
		if skip[d.Key] {
			continue
		}
		if n, ok := new.Lookup(d.Key); ok && CompareVersions(n.Version, d.Version) < 0 {
			older = append(older, Older{Name: d.Name, Old: d.Version, New: n.Version})
		}
	}
	return older
}

// skipSet is the normalised names that are never missing: the installers and provided.
func skipSet(provided []string) map[string]bool {
	skip := map[string]bool{}
	for _, name := range append(append([]string{}, Tooling...), provided...) {
		skip[NormalizeName(RequirementName(name))] = true
	}
	return skip
}

// isTooling reports whether a name or requirement is pip, setuptools or wheel.
func isTooling(req string) bool {
	key := NormalizeName(RequirementName(req))
	for _, t := range Tooling {
		if key == t {
			return true
		}
	}
	return false
}

// RequirementName is the project name of a pip requirement: "django==4.2" -> "django",
// "ldap3>=2.9; python_version>'3'" -> "ldap3", "Foo[extra]" -> "Foo".
func RequirementName(req string) string {
	req = strings.TrimSpace(req)
	if i := strings.IndexAny(req, "<>=!~;[ @("); i >= 0 {
		req = req[:i]
	}
	return strings.TrimSpace(req)
}

// EnvSummary describes an environment in a Report.
type EnvSummary struct {
	Path         string   `json:"path"`
	Interpreter  string   `json:"interpreter,omitempty"`
	Python       string   `json:"python,omitempty"`
	SitePackages []string `json:"site_packages"`
	Packages     int      `json:"packages"`
}

// Summary describes e for a Report.
func (e *Env) Summary() EnvSummary {
	return EnvSummary{
		Path:         e.Path,
		Interpreter:  e.Interpreter,
		Python:       e.Python,
		SitePackages: e.SitePackages,
		Packages:     len(e.Dists),
	}
}

// Report is what `omflow-upgrade pydiff -old PATH -new PATH` prints: both environments,
// what the new one lacks, and the command that installs it with the new interpreter. With
// -json it is printed as is (encoding/json); Command is "" when nothing is missing.
type Report struct {
	Old     EnvSummary `json:"old"`
	New     EnvSummary `json:"new"`
	Missing []Package  `json:"missing"`
	Command string     `json:"command"`
	// Older are packages the new environment has in an older version; they do not
	// change the exit code.
	Older []Older `json:"older,omitempty"`
}

// NewReport compares old and new for a server running goos ("linux", "windows"; the
// command is written for its shell) and builds the install command around the new
// environment's interpreter (see NewInterpreter).
func NewReport(old, new *Env, goos string, provided ...string) Report {
	r := Report{
		Old:     old.Summary(),
		New:     new.Summary(),
		Missing: Missing(old, new, provided...),
		Older:   OlderIn(old, new, provided...),
	}
	if len(r.Missing) > 0 {
		r.Command = InstallCommand(NewInterpreter(new, goos), goos, r.Missing)
	}
	return r
}

// Err is nil when nothing is missing, else a refusal (exit 3) with reason
// ReasonPackagesMissing that names the missing packages.
func (r Report) Err() error {
	if len(r.Missing) == 0 {
		return nil
	}
	names := make([]string, len(r.Missing))
	for i, p := range r.Missing {
		names[i] = p.Requirement()
	}
	return &outcome.RefusedError{
		Reason: ReasonPackagesMissing,
		Err: fmt.Errorf("python environment %q lacks %d package(s) of %q: %s",
			r.New.Path, len(r.Missing), r.Old.Path, strings.Join(names, " ")),
	}
}

// ExitCode is pydiff's exit code: 0 when nothing is missing, 3 when something is.
func (r Report) ExitCode() int { return outcome.ExitCode(r.Err()) }

// NewInterpreter is the python executable of e: the one Open was given, else the one
// that belongs to its first site-packages folder on goos
// (…\Python311\Lib\site-packages -> …\Python311\python.exe,
// …/python/lib/python3.11/site-packages -> …/python/bin/python).
func NewInterpreter(e *Env, goos string) string {
	if e.Interpreter != "" {
		return e.Interpreter
	}
	if len(e.SitePackages) == 0 {
		return defaultPython(goos)
	}
	return InterpreterOf(e.SitePackages[0], goos)
}

// InterpreterOf is the interpreter that owns a site-packages folder on goos.
func InterpreterOf(sitePackages, goos string) string {
	if goos == "windows" {
		p := strings.ReplaceAll(sitePackages, "/", `\`)
		lower := strings.ToLower(p)
		if i := strings.LastIndex(lower, `\lib\site-packages`); i >= 0 {
			return p[:i] + `\python.exe`
		}
		return defaultPython(goos)
	}
	parts := strings.Split(sitePackages, "/")
	for i := len(parts) - 1; i >= 1; i-- {
		if (parts[i-1] == "lib" || parts[i-1] == "lib64") && strings.HasPrefix(parts[i], "python") {
			return strings.Join(parts[:i-1], "/") + "/bin/python"
		}
	}
	return defaultPython(goos)
}

func defaultPython(goos string) string {
	if goos == "windows" {
		return "python.exe"
	}
	return "python3"
}

// InstallCommand is the command line that installs pkgs with python's pip, quoted for
// goos's shell (cmd.exe on Windows, sh elsewhere).
func InstallCommand(python, goos string, pkgs []Package) string {
	args := []string{python, "-m", "pip", "install", "--"}
	for _, p := range pkgs {
		args = append(args, p.Requirement())
	}
	for i, a := range args {
		if goos == "windows" {
			args[i] = quoteCmd(a)
		} else {
			args[i] = quoteSh(a)
		}
	}
	return strings.Join(args, " ")
}

// quoteSh single-quotes a word that sh would otherwise split or expand.
func quoteSh(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,/:=+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quoteCmd double-quotes a word with spaces or cmd.exe metacharacters; "<" and ">" in a
// requirement would otherwise redirect. cmd.exe expands %VAR% even between quotes: each
// % leaves the quotes as ^% ("a"^%"PATH"^%"b"), so that what lies between two of them
// is no variable's name and the caret gives back the %.
func quoteCmd(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t&|<>^()%!\"") {
		return s
	}
	s = strings.ReplaceAll(s, `"`, `""`)
	return `"` + strings.ReplaceAll(s, "%", `"^%"`) + `"`
}

// DefaultRequired are the packages OMFLOW 1.2.0.0 needs in its Python 3.11 venv (the
// seed's `pip install wheel django==4.2 ldap3 mod_wsgi openpyxl`).
var DefaultRequired = []string{"wheel", "django==4.2", "ldap3", "mod_wsgi", "openpyxl"}
