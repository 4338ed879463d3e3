// Package pyenv reads and changes OMFLOW's Python environments: the distributions
// installed in one (straight from their *.dist-info and *.egg-info metadata, without
// starting an interpreter), what a new environment lacks compared with the old one, pip
// installs into the new one, and the Linux venv rebuild of 1.2.0.0 (SPEC 4.5).
package pyenv

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"omflow-upgrade/upgrade/outcome"
)

// Kinds of metadata a distribution was found through.
const (
	KindDistInfo = "dist-info" // NAME-VER.dist-info/METADATA (wheels, modern editables)
	KindEggInfo  = "egg-info"  // NAME-VER.egg-info/PKG-INFO, or an .egg-info file
	KindEggLink  = "egg-link"  // NAME.egg-link naming a project with its .egg-info (setup.py develop)
	KindEgg      = "egg"       // NAME-VER.egg/EGG-INFO/PKG-INFO (easy_install)
)

// Dist is one installed distribution.
type Dist struct {
	Name     string `json:"name"`    // as its metadata spells it: "Django", "python_ldap"
	Version  string `json:"version"` // as its metadata spells it
	Key      string `json:"-"`       // NormalizeName(Name)
	Kind     string `json:"-"`       // KindDistInfo, ...
	Location string `json:"-"`       // the site-packages folder it was found in
	Metadata string `json:"-"`       // the METADATA or PKG-INFO file read
	Editable bool   `json:"-"`       // an editable install (egg-link, or PEP 660 direct_url.json)
}

// Env is a Python environment's installed distributions.
type Env struct {
	// Path is what Open was given.
	Path string `json:"path"`
	// Interpreter is the python executable, when Open was given one.
	Interpreter string `json:"interpreter,omitempty"`
	// Python is the interpreter's version ("3.11.2"), when known: asked of the
	// interpreter, or read from a venv's pyvenv.cfg.
	Python string `json:"python,omitempty"`
	// SitePackages are the folders read, in sys.path order.
	SitePackages []string `json:"site_packages"`
	// Dists are the distributions, sorted by Key; a name found in several folders is the
	// first one, as Python imports it.
	Dists []Dist `json:"-"`
	// Skipped are metadata entries that could not be read (no Name, unreadable), with
	// the reason; pip skips them too.
	Skipped []string `json:"-"`
}

// Lookup returns the distribution whose normalised name is NormalizeName(name).
func (e *Env) Lookup(name string) (Dist, bool) {
	key := NormalizeName(name)
	i := sort.Search(len(e.Dists), func(i int) bool { return e.Dists[i].Key >= key })
	if i < len(e.Dists) && e.Dists[i].Key == key {
		return e.Dists[i], true
	}
	return Dist{}, false
}

// Options tune Open.
type Options struct {
	// AlwaysAsk runs an interpreter even when it is a venv's without system
	// site-packages, whose site-packages folder its pyvenv.cfg and layout already give.
	AlwaysAsk bool
	// Logf, when set, receives what Open did (interpreter asked, entries skipped).
	Logf func(format string, args ...any)
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// Open reads the environment at path: a python interpreter, a site-packages folder, or
// the root of an environment (a venv, /opt/omflow/python, a Windows Python folder holding
// Lib\site-packages). Folders are read without starting any interpreter. An interpreter
// is asked once for its site-packages folders, unless it is a venv's without system
// site-packages: its pyvenv.cfg and layout give the answer, even when the interpreter no
// longer runs (the old Python of an upgraded server). A path that does not exist or holds
// no Python is unusable input (exit 2).
func Open(ctx context.Context, path string, opts Options) (*Env, error) {
	env := &Env{Path: path}
	fi, statErr := os.Stat(path)
	dirs, python, isolated := isolatedVenv(path)
	switch {
	case statErr == nil && fi.IsDir():
		dirs, python := sitePackagesOf(path)
		if len(dirs) == 0 {
			return nil, outcome.Unusable(fmt.Errorf("open python environment %q: not an interpreter, a site-packages folder, or an environment holding one", path))
		}
		env.SitePackages, env.Python = dirs, python
	case isolated && (!opts.AlwaysAsk || statErr != nil):
		// statErr: a dangling link to a Python that is gone.
		opts.logf("python %s (%s): a venv without system site-packages, site-packages %s", python, path, strings.Join(dirs, string(os.PathListSeparator)))
		env.Interpreter, env.Python, env.SitePackages = path, python, dirs
	case statErr != nil:
		return nil, outcome.Unusable(fmt.Errorf("open python environment %q: %w", path, statErr))
	default:
		info, err := AskInterpreter(ctx, path)
		if err != nil {
			return nil, err
		}
		opts.logf("python %s (%s): site-packages %s", info.Version, path, strings.Join(info.SitePackages, string(os.PathListSeparator)))
		env.Interpreter, env.Python, env.SitePackages = path, info.Version, info.SitePackages
	}
	seen := map[string]bool{}
	for _, dir := range env.SitePackages {
		dists, skipped, err := ReadSitePackages(dir)
		if err != nil {
			return nil, outcome.Unusable(fmt.Errorf("open python environment %q: %w", path, err))
		}
		for _, s := range skipped {
			opts.logf("skipped %s", s)
		}
		env.Skipped = append(env.Skipped, skipped...)
		for _, d := range dists {
			if !seen[d.Key] {
				seen[d.Key] = true
				env.Dists = append(env.Dists, d)
			}
		}
	}
	sort.Slice(env.Dists, func(i, j int) bool { return env.Dists[i].Key < env.Dists[j].Key })
	return env, nil
}

// sitePackagesOf finds the site-packages folders of a folder given to Open: the folder
// itself when it holds metadata or is named like one, else the site-packages of the
// environment rooted there. python is the version from pyvenv.cfg, when there is one.
func sitePackagesOf(dir string) (dirs []string, python string) {
	python = pyvenvVersion(dir)
	base := strings.ToLower(filepath.Base(dir))
	if base == "site-packages" || base == "dist-packages" || holdsMetadata(dir) {
		return []string{dir}, python
	}
	for _, pattern := range []string{
		filepath.Join(dir, "Lib", "site-packages"),                      // Windows Python and venv
		filepath.Join(dir, "lib", "python3*", "site-packages"),          // venv, /usr/local
		filepath.Join(dir, "lib64", "python3*", "site-packages"),        // RHEL
		filepath.Join(dir, "local", "lib", "python3*", "dist-packages"), // Debian pip
	} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			// lib64 is often a link to lib: one folder, read once.
			if fi, err := os.Stat(m); err == nil && fi.IsDir() && !sameAsAny(m, dirs) {
				dirs = append(dirs, m)
			}
		}
	}
	return dirs, python
}

func sameAsAny(dir string, dirs []string) bool {
	fi, err := os.Stat(dir)
	if err != nil {
		return false
	}
	for _, d := range dirs {
		if di, err := os.Stat(d); err == nil && os.SameFile(fi, di) {
			return true
		}
	}
	return false
}

func holdsMetadata(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if _, ok := metadataKind(e.Name()); ok {
			return true
		}
	}
	return false
}

// pyvenvVersion is the Python version of the environment dir is, or is inside of
// (lib/python3.11/site-packages): "version = 3.11.2" (or version_info) from its
// pyvenv.cfg, else the "python3.11" folder name on the way up.
func pyvenvVersion(dir string) string {
	for d, i := dir, 0; i < 4; d, i = filepath.Dir(d), i+1 {
		if v := readPyvenvCfg(filepath.Join(d, "pyvenv.cfg")); v != "" {
			return v
		}
	}
	for d, i := dir, 0; i < 4; d, i = filepath.Dir(d), i+1 {
		if m := pythonDirVersion.FindStringSubmatch(filepath.Base(d)); m != nil {
			return m[1]
		}
	}
	return ""
}

var pythonDirVersion = regexp.MustCompile(`^python(3\.\d+)$`)

func readPyvenvCfg(path string) string {
	cfg := pyvenvCfg(path)
	if v := cfg["version"]; v != "" {
		return v
	}
	return cfg["version_info"]
}

// SeesSystemSitePackages says whether the venv at dir was made with
// --system-site-packages: its pyvenv.cfg says include-system-site-packages = true.
func SeesSystemSitePackages(dir string) bool {
	return strings.EqualFold(pyvenvCfg(filepath.Join(dir, "pyvenv.cfg"))["include-system-site-packages"], "true")
}

// pyvenvCfg reads a pyvenv.cfg's "key = value" lines; nil when there is none.
func pyvenvCfg(path string) map[string]string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	cfg := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			cfg[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return cfg
}

// isolatedVenv answers for an interpreter without running it when it is a venv's
// (VENV/bin/python, VENV\Scripts\python.exe) and the venv does not see the system's
// site-packages: its sys.path then holds exactly the venv's site-packages folder (user
// site is off in venvs). The old interpreter of an upgraded server may not even run any
// more; its packages can still be read.
func isolatedVenv(python string) (dirs []string, version string, ok bool) {
	bin := filepath.Dir(python)
	if b := strings.ToLower(filepath.Base(bin)); b != "bin" && b != "scripts" {
		return nil, "", false
	}
	venv := filepath.Dir(bin)
	cfg := pyvenvCfg(filepath.Join(venv, "pyvenv.cfg"))
	if cfg == nil || cfg["home"] == "" || !strings.EqualFold(cfg["include-system-site-packages"], "false") {
		return nil, "", false
	}
	version = cfg["version"]
	if version == "" {
		version = cfg["version_info"]
	}
	if strings.EqualFold(filepath.Base(bin), "scripts") {
		dirs = []string{filepath.Join(venv, "Lib", "site-packages")}
	} else {
		// lib/pythonX.Y of the venv's own version; lib64 is a link to lib, or its twin.
		xy := version
		if parts := strings.SplitN(version, ".", 3); len(parts) >= 2 {
			xy = parts[0] + "." + parts[1]
		}
		for _, lib := range []string{"lib", "lib64"} {
			d := filepath.Join(venv, lib, "python"+xy, "site-packages")
			if isDir(d) && !sameAsAny(d, dirs) {
				dirs = append(dirs, d)
			}
		}
	}
	if len(dirs) == 0 || !isDir(dirs[0]) {
		return nil, "", false
	}
	return dirs, version, true
}

// InterpreterInfo is what an interpreter says about itself.
type InterpreterInfo struct {
	Executable   string   `json:"executable"`
	Version      string   `json:"version"` // "3.11.2"
	SitePackages []string `json:"site_packages"`
}

// askScript prints the interpreter's version and the sys.path entries that are
// site-packages or dist-packages folders, the ones pip reads distributions from.
const askScript = `import json, os, sys
paths = []
for p in sys.path:
    if os.path.basename(os.path.normpath(p or ".")).lower() in ("site-packages", "dist-packages") and os.path.isdir(p) and p not in paths:
        paths.append(p)
print(json.dumps({"executable": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3], "site_packages": paths}))
`

// AskInterpreter runs python once and asks for its version and site-packages folders. An
// interpreter that does not run is unusable input.
func AskInterpreter(ctx context.Context, python string) (InterpreterInfo, error) {
	var info InterpreterInfo
	cmd := exec.CommandContext(ctx, python, "-c", askScript)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return info, fmt.Errorf("ask python %q: %w", python, ctx.Err())
		}
		return info, outcome.Unusable(fmt.Errorf("ask python %q for its site-packages: %w: %s", python, err, strings.TrimSpace(stderr.String())))
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return info, outcome.Unusable(fmt.Errorf("ask python %q for its site-packages: %w", python, err))
	}
	return info, nil
}

// metadataKind says whether a site-packages entry name is distribution metadata.
func metadataKind(name string) (string, bool) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".dist-info"):
		return KindDistInfo, true
	case strings.HasSuffix(lower, ".egg-info"):
		return KindEggInfo, true
	case strings.HasSuffix(lower, ".egg-link"):
		return KindEggLink, true
	case strings.HasSuffix(lower, ".egg"):
		return KindEgg, true
	}
	return "", false
}

// ReadSitePackages reads the distributions installed in one site-packages folder, one
// per normalised name, in the order pip finds them: *.dist-info and *.egg-info, then
// *.egg, then the projects *.egg-link files point to. skipped lists entries that are not
// readable distributions, with why. Only a folder that cannot be listed is an error.
func ReadSitePackages(dir string) (dists []Dist, skipped []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read site-packages %q: %w", dir, err)
	}
	seen := map[string]bool{}
	add := func(d Dist, err error, p, kind string) {
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", p, err))
			return
		}
		if d.Key == "" || seen[d.Key] {
			return
		}
		seen[d.Key] = true
		d.Kind, d.Location = kind, dir
		dists = append(dists, d)
	}
	for _, pass := range []string{KindDistInfo, KindEgg, KindEggLink} {
		for _, e := range entries {
			kind, ok := metadataKind(e.Name())
			if !ok || (kind == KindEggInfo && pass != KindDistInfo) || (kind != KindEggInfo && kind != pass) {
				continue
			}
			p := filepath.Join(dir, e.Name())
			switch kind {
			case KindDistInfo, KindEggInfo:
				d, err := readInfo(p)
				add(d, err, p, kind)
			case KindEgg:
				d, err := readEgg(p)
				add(d, err, p, kind)
			case KindEggLink:
				linked, err := readEggLink(p)
				if err != nil {
					add(Dist{}, err, p, kind)
				}
				for _, d := range linked {
					add(d, nil, p, kind)
				}
			}
		}
	}
	return dists, skipped, nil
}

// readInfo reads a .dist-info or .egg-info entry. A folder holds METADATA or PKG-INFO
// (importlib.metadata tries them in that order); a file (distutils' install_egg_info)
// is the PKG-INFO itself.
func readInfo(p string) (Dist, error) {
	if !isDir(p) {
		return readMetadata(p)
	}
	d, err := readMetadata(filepath.Join(p, "METADATA"))
	if errors.Is(err, fs.ErrNotExist) {
		d, err = readMetadata(filepath.Join(p, "PKG-INFO"))
	}
	if err == nil {
		d.Editable = editableDirectURL(filepath.Join(p, "direct_url.json"))
	}
	return d, err
}

// readEgg reads an easy_install egg: a folder or a zip holding EGG-INFO/PKG-INFO.
func readEgg(p string) (Dist, error) {
	if isDir(p) {
		return readMetadata(filepath.Join(p, "EGG-INFO", "PKG-INFO"))
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		return Dist{}, fmt.Errorf("open egg: %w", err)
	}
	defer zr.Close()
	f, err := zr.Open("EGG-INFO/PKG-INFO")
	if err != nil {
		return Dist{}, fmt.Errorf("open egg: %w", err)
	}
	defer f.Close()
	d, err := parseMetadata(f, p+"/EGG-INFO/PKG-INFO")
	return d, err
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// readEggLink follows NAME.egg-link (setup.py develop, pip install -e of old): its first
// non-empty line is the project folder, whose *.egg-info and *.dist-info are installed.
func readEggLink(link string) ([]Dist, error) {
	data, err := os.ReadFile(link)
	if err != nil {
		return nil, err
	}
	var target string
	for _, line := range strings.Split(string(data), "\n") {
		if target = strings.TrimSpace(line); target != "" {
			break
		}
	}
	if target == "" {
		return nil, errors.New("empty egg-link")
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(link), target)
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return nil, fmt.Errorf("project folder of egg-link: %w", err)
	}
	var dists []Dist
	for _, e := range entries {
		if kind, ok := metadataKind(e.Name()); ok && (kind == KindDistInfo || kind == KindEggInfo) {
			d, err := readInfo(filepath.Join(target, e.Name()))
			if err != nil {
				return nil, err
			}
			d.Editable = true
			dists = append(dists, d)
		}
	}
	if len(dists) == 0 {
		return nil, fmt.Errorf("no .egg-info in project folder %q", target)
	}
	return dists, nil
}

// readMetadata reads Name and Version from an email-header style METADATA or PKG-INFO
// file; only the headers are read, not the description.
func readMetadata(path string) (Dist, error) {
	f, err := os.Open(path)
	if err != nil {
		return Dist{}, err
	}
	defer f.Close()
	return parseMetadata(f, path)
}

// parseMetadata reads the headers of a METADATA or PKG-INFO file; path names it.
func parseMetadata(r io.Reader, path string) (Dist, error) {
	var d Dist
	d.Metadata = path
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1024*1024) // headers are short; long ones may grow
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break // end of headers
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // a folded continuation line
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "name":
			if d.Name == "" {
				d.Name = strings.TrimSpace(v)
			}
		case "version":
			if d.Version == "" {
				d.Version = strings.TrimSpace(v)
			}
		}
		if d.Name != "" && d.Version != "" {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return Dist{}, fmt.Errorf("read %q: %w", path, err)
	}
	if d.Name == "" {
		return Dist{}, fmt.Errorf("%q has no Name", path)
	}
	d.Key = NormalizeName(d.Name)
	if skippedNames[d.Key] {
		return Dist{}, nil // Key "" is dropped by the caller, silently
	}
	return d, nil
}

// skippedNames are distributions pip list never shows (pip's stdlib_pkgs): the metadata
// old Pythons shipped for parts of the standard library.
var skippedNames = map[string]bool{"python": true, "wsgiref": true, "argparse": true}

// editableDirectURL reports whether a dist-info's direct_url.json (PEP 610) marks an
// editable install.
func editableDirectURL(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var du struct {
		DirInfo struct {
			Editable bool `json:"editable"`
		} `json:"dir_info"`
	}
	return json.Unmarshal(data, &du) == nil && du.DirInfo.Editable
}
