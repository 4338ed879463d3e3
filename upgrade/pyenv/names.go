package pyenv

import (
	"fmt"
	"regexp"
	"strings"
)

// Names and versions come from the old environment's METADATA files, which anyone who
// could install a package there wrote. Before one goes into a pip command line or a
// requirements file (where "--index-url=..." or "x==1 --global-option=..." would be an
// option), it must be what Python packaging allows: nothing pip or a shell reads as
// anything but a name.
var (
	// The project name rule of PEP 508 (core metadata "Name").
	validName = regexp.MustCompile(`(?i)^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`)
	// The characters of a PEP 440 version, local part included ("1.0.post1", "2!1.0+ubuntu.1").
	validVersion = regexp.MustCompile(`(?i)^[A-Z0-9]([A-Z0-9.!+_-]*[A-Z0-9])?$`)
	// Version specifiers of a requirement given as a name ("django==4.2", the release's
	// own list): operators and versions (with a trailing .* after ==), nothing else.
	validSpecifiers = regexp.MustCompile(`(?i)^\s*(===|==|!=|~=|<=|>=|<|>)\s*[A-Z0-9][A-Z0-9.!+_-]*(\.\*)?\s*(,\s*(===|==|!=|~=|<=|>=|<|>)\s*[A-Z0-9][A-Z0-9.!+_-]*(\.\*)?\s*)*$`)
)

// validPackage: a project name and a version (pinned as name==version, so "4.2.*", a
// series, is a version too), or (no version) a name with specifiers.
func validPackage(p Package) bool {
	if p.Version != "" {
		return validName.MatchString(p.Name) && validVersion.MatchString(strings.TrimSuffix(p.Version, ".*"))
	}
	name := RequirementName(p.Name)
	if name == p.Name {
		return validName.MatchString(name)
	}
	return validName.MatchString(name) && strings.TrimSpace(p.Name[:len(name)]) == name &&
		validSpecifiers.MatchString(p.Name[len(name):])
}

// CheckPackages refuses, naming them, packages whose name is not a Python project name
// or whose version is not a version: no command is run for any of them.
func CheckPackages(pkgs []Package) error {
	var bad []string
	for _, p := range pkgs {
		if !validPackage(p) {
			bad = append(bad, fmt.Sprintf("%q %q", p.Name, p.Version))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("python packages of the old environment with a name or version Python packaging does not allow (PEP 508, PEP 440), nothing installed: %s; remove them from the old environment or install them by hand", strings.Join(bad, ", "))
	}
	return nil
}
