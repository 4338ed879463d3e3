package pyenvtest

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// StandInPython is a stand-in for a Windows CPython's python.exe, for tests of the
// Windows Python move under Wine, where no CPython (and no network, no PyPI) is at hand.
// It is not Python: it answers only what the upgrade asks of an interpreter.
//
//   - --version (or -V): "Python 3.X.0", X from the python3X.dll beside the program
//     (3.11 when there is none);
//   - -c CODE, whatever CODE: the JSON that pyenv's site-packages query prints
//     (executable, version, site_packages: the program's folder's Lib\site-packages);
//   - -m pip --version;
//   - -m pip install [--disable-pip-version-check] [--no-input] --no-index --find-links DIR
//     [-r FILE] [--] REQ...: every REQ ("name", "name==1.2", "name==4.2.*") must have a
//     wheel in DIR, else pip's own two ERROR lines for it and exit 1, nothing installed
//     (pip installs all or nothing); then each wheel is unpacked into Lib\site-packages.
//     Without --no-index it fails as pip does with no network.
//
// args are the program's arguments after its name; it returns the exit code.
func StandInPython(args []string, stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	home := filepath.Dir(exe)
	version := standInVersion(home)
	site := filepath.Join(home, "Lib", "site-packages")
	switch {
	case len(args) == 1 && (args[0] == "--version" || args[0] == "-V"):
		fmt.Fprintf(stdout, "Python %s\n", version)
		return 0
	case len(args) >= 2 && args[0] == "-c":
		b, _ := json.Marshal(map[string]any{"executable": exe, "version": version, "site_packages": []string{site}})
		fmt.Fprintln(stdout, string(b))
		return 0
	case len(args) == 3 && args[0] == "-m" && args[1] == "pip" && args[2] == "--version":
		fmt.Fprintf(stdout, "pip 23.0.1 from %s (python %s) [stand-in]\n", filepath.Join(site, "pip"), version)
		return 0
	case len(args) >= 3 && args[0] == "-m" && args[1] == "pip" && args[2] == "install":
		return standInPipInstall(args[3:], site, stdout, stderr)
	}
	fmt.Fprintf(stderr, "stand-in python.exe (not CPython): %q is not one of the requests it answers\n", args)
	return 2
}

var dllMinor = regexp.MustCompile(`(?i)^python3(\d+)\.dll$`)

func standInVersion(home string) string {
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if m := dllMinor.FindStringSubmatch(e.Name()); m != nil {
			return "3." + m[1] + ".0"
		}
	}
	return "3.11.0"
}

var nameRuns = regexp.MustCompile(`[-_.]+`)

func normalize(name string) string { return strings.ToLower(nameRuns.ReplaceAllString(name, "-")) }

func standInPipInstall(args []string, site string, stdout, stderr io.Writer) int {
	var reqs []string
	noIndex, links := false, ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			reqs = append(reqs, args[i+1:]...)
			i = len(args)
		case a == "--no-index":
			noIndex = true
		case a == "--disable-pip-version-check" || a == "--no-input":
		case (a == "--find-links" || a == "-f" || a == "-r") && i+1 < len(args):
			i++
			if a == "-r" {
				lines, err := readRequirements(args[i])
				if err != nil {
					fmt.Fprintf(stderr, "ERROR: Could not open requirements file: %v\n", err)
					return 1
				}
				reqs = append(reqs, lines...)
			} else {
				links = args[i]
			}
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(stderr, "ERROR: the stand-in pip does not know the option %s\n", a)
			return 2
		default:
			reqs = append(reqs, a)
		}
	}
	if !noIndex || links == "" {
		fmt.Fprintln(stderr, "WARNING: the stand-in python.exe has no network: it installs only with --no-index --find-links DIR")
		for _, r := range reqs {
			notFound(stderr, r)
		}
		return 1
	}
	wheels, _ := filepath.Glob(filepath.Join(links, "*.whl"))
	sort.Sort(sort.Reverse(sort.StringSlice(wheels))) // the newest version of a name first
	var chosen []string
	failed := false
	for _, r := range reqs {
		w := findWheel(wheels, r)
		if w == "" {
			notFound(stderr, r)
			failed = true
			continue
		}
		chosen = append(chosen, w)
	}
	if failed {
		return 1
	}
	var done []string
	for _, w := range chosen {
		if err := unpackWheel(w, site); err != nil {
			fmt.Fprintf(stderr, "ERROR: Could not install packages due to an OSError: %v\n", err)
			return 1
		}
		name, ver, _ := wheelNameVersion(w)
		done = append(done, name+"-"+ver)
	}
	fmt.Fprintf(stdout, "Successfully installed %s\n", strings.Join(done, " "))
	return 0
}

func notFound(w io.Writer, req string) {
	fmt.Fprintf(w, "ERROR: Could not find a version that satisfies the requirement %s (from versions: none)\n", req)
	fmt.Fprintf(w, "ERROR: No matching distribution found for %s\n", req)
}

func readRequirements(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// wheelNameVersion reads NAME-VERSION[-BUILD]-PY-ABI-PLATFORM.whl.
func wheelNameVersion(path string) (name, version string, ok bool) {
	parts := strings.Split(strings.TrimSuffix(filepath.Base(path), ".whl"), "-")
	if len(parts) < 5 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// findWheel is the wheel in wheels that satisfies req: a bare name, name==V, or
// name==V.* (other specifiers take any version).
func findWheel(wheels []string, req string) string {
	name, spec := req, ""
	if i := strings.IndexAny(req, "<>=!~;[ "); i >= 0 {
		name, spec = req[:i], strings.TrimSpace(req[i:])
	}
	for _, w := range wheels {
		n, v, ok := wheelNameVersion(w)
		if !ok || normalize(n) != normalize(name) {
			continue
		}
		if pin, ok := strings.CutPrefix(spec, "=="); ok {
			if prefix, wild := strings.CutSuffix(pin, ".*"); wild {
				if v != prefix && !strings.HasPrefix(v, prefix+".") {
					continue
				}
			} else if v != pin {
				continue
			}
		}
		return w
	}
	return ""
}

// unpackWheel puts a wheel's files into site (the purelib layout of a wheel is the
// site-packages tree itself).
func unpackWheel(path, site string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, f := range zr.File {
		name := filepath.FromSlash(f.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("%s: entry %q leaves site-packages", path, f.Name)
		}
		dst := filepath.Join(site, name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		r, err := f.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
