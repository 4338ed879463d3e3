package pyenv

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"omflow-upgrade/internal/testneed"
)

// buildNamesVenv makes a real venv holding the names that trip readers: packages installed by pip
// from wheels (Django, python_ldap, zope.interface, ruamel.yaml), metadata written as other
// installers leave it (an .egg-info folder and file, a non-normal version), a legacy
// editable (setup.py develop: .egg-link) and a PEP 660 editable (__editable__ .pth), with
// Debian's dist-packages visible through --system-site-packages. It returns its python.
func buildNamesVenv(t testing.TB) string {
	dir := filepath.Join(t.TempDir(), "names")
	python := makeVenv(t, dir, "--without-pip", "--system-site-packages")
	site := sitePackagesDir(t, dir)
	wheels := filepath.Join(filepath.Dir(dir), "wheels")
	os.MkdirAll(wheels, 0o755)
	for _, w := range []wheelSpec{
		{Name: "Django", Version: "4.2"}, // shadows Debian's python3-django when present
		{Name: "python_ldap", Version: "3.4.3"},
		{Name: "zope.interface", Version: "5.5.2"},
		{Name: "ruamel.yaml", Version: "0.17.21"},
	} {
		buildWheel(t, wheels, w)
	}
	run(t, python, "-m", "pip", "install", "--no-index", "--find-links", wheels,
		"Django==4.2", "python-ldap==3.4.3", "zope.interface==5.5.2", "ruamel.yaml==0.17.21")

	writeDistInfo(t, site, "Odd_Name", "1.0.0-RC1")
	mustWrite(t, filepath.Join(site, "PyMySQL-1.0.2-py3.11.egg-info", "PKG-INFO"), "Metadata-Version: 2.1\nName: PyMySQL\nVersion: 1.0.2\n")
	mustWrite(t, filepath.Join(site, "cx_Oracle-8.3.0-py3.11.egg-info"), "Metadata-Version: 1.1\nName: cx-Oracle\nVersion: 8.3.0\n")

	legacy := filepath.Join(filepath.Dir(dir), "legacy-proj")
	mustWrite(t, filepath.Join(legacy, "setup.py"), "from setuptools import setup\nsetup(name='legacy_proj', version='0.5', py_modules=['legacy_proj'])\n")
	mustWrite(t, filepath.Join(legacy, "legacy_proj.py"), "")
	modern := filepath.Join(filepath.Dir(dir), "modern-proj")
	mustWrite(t, filepath.Join(modern, "pyproject.toml"), "[build-system]\nrequires = ['setuptools>=64']\nbuild-backend = 'setuptools.build_meta'\n\n[project]\nname = 'Modern.Proj'\nversion = '2.0'\n\n[tool.setuptools]\npy-modules = ['modern_proj']\n")
	mustWrite(t, filepath.Join(modern, "modern_proj.py"), "")
	run(t, python, "-m", "pip", "install", "--no-index", "--no-build-isolation", "-e", legacy, "-e", modern)
	return python
}

func sitePackagesDir(t testing.TB, venv string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages"))
	if len(m) != 1 {
		t.Fatalf("site-packages of %s: %v", venv, m)
	}
	return m[0]
}

func mustWrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenAgreesWithPipList(t *testing.T) {
	needPython(t)
	t.Parallel()
	python := buildNamesVenv(t)
	venv := filepath.Dir(filepath.Dir(python))
	site := sitePackagesDir(t, venv)
	ctx := context.Background()

	t.Run("interpreter", func(t *testing.T) {
		env, err := Open(ctx, python, Options{Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		if env.Interpreter != python || env.Python == "" || env.SitePackages[0] != site {
			t.Errorf("env = %+v, want interpreter %s, its version, %s first", env, python, site)
		}
		if got, want := listed(env), pipList(t, python); !reflect.DeepEqual(got, want) {
			t.Errorf("Open and pip list differ:\n only Open: %v\n only pip:  %v", diffMaps(got, want), diffMaps(want, got))
		}
		// The tricky ones are really there, spelled as installed.
		for name, want := range map[string]struct {
			version, kind string
			editable      bool
		}{
			"Django":         {"4.2", KindDistInfo, false},
			"python_ldap":    {"3.4.3", KindDistInfo, false},
			"zope.interface": {"5.5.2", KindDistInfo, false},
			"ruamel.yaml":    {"0.17.21", KindDistInfo, false},
			"Odd_Name":       {"1.0.0-RC1", KindDistInfo, false},
			"PyMySQL":        {"1.0.2", KindEggInfo, false},
			"cx-Oracle":      {"8.3.0", KindEggInfo, false},
			"legacy-proj":    {"0.5", KindEggLink, true}, // setuptools spells it so in PKG-INFO
			"Modern.Proj":    {"2.0", KindDistInfo, true},
		} {
			d, ok := env.Lookup(name)
			if !ok || d.Name != name || d.Version != want.version || d.Kind != want.kind || d.Editable != want.editable || d.Location != site {
				t.Errorf("Lookup(%s) = %+v, %v; want %+v in %s", name, d, ok, want, site)
			}
		}
	})
	t.Run("site-packages folder", func(t *testing.T) {
		env, err := Open(ctx, site, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := listed(env)
		pathOnly := pipListPath(t, python, site)
		if !reflect.DeepEqual(got, pathOnly) {
			t.Errorf("Open(%s) and pip list --path differ:\n only Open: %v\n only pip:  %v", site, diffMaps(got, pathOnly), diffMaps(pathOnly, got))
		}
		if env.Python == "" {
			t.Errorf("Python version not read from pyvenv.cfg")
		}
	})
	t.Run("venv root", func(t *testing.T) {
		env, err := Open(ctx, venv, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(env.SitePackages, []string{site}) {
			t.Errorf("SitePackages = %v, want [%s]", env.SitePackages, site)
		}
	})
}

// TestOpenAgreesWithPipListSystem compares on Debian's own Python, whose dist-packages
// hold what apt installed (.egg-info folders beside .dist-info, the odd duplicate).
func TestOpenAgreesWithPipListSystem(t *testing.T) {
	needPython(t)
	t.Parallel()
	if out, err := runQuiet(systemPython, "-m", "pip", "--version"); err != nil {
		testneed.Missing(t, "pip for %s (apt-get install python3-pip): %v %s", systemPython, err, out)
	}
	env, err := Open(context.Background(), systemPython, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := listed(env), pipList(t, systemPython); !reflect.DeepEqual(got, want) {
		t.Errorf("Open and pip list differ:\n only Open: %v\n only pip:  %v", diffMaps(got, want), diffMaps(want, got))
	}
}

func diffMaps(a, b map[string]string) map[string]string {
	d := map[string]string{}
	for k, v := range a {
		if b[k] != v {
			d[k] = v
		}
	}
	return d
}

// An interpreter of a venv without system site-packages is answered from its pyvenv.cfg
// and layout, without running it: the answer must be the interpreter's own, and pip's.
func TestOpenIsolatedVenvWithoutRunningIt(t *testing.T) {
	needPython(t)
	t.Parallel()
	ctx := context.Background()
	venv := filepath.Join(t.TempDir(), "python")
	python := makeVenv(t, venv, "--without-pip")
	site := sitePackagesDir(t, venv)
	for _, p := range [][2]string{{"Django", "2.2.28"}, {"python_ldap", "3.4.0"}, {"zope.interface", "5.4.0"}, {"Odd", "1.0-1"}} {
		writeDistInfo(t, site, p[0], p[1])
	}
	fast, err := Open(ctx, python, Options{})
	if err != nil {
		t.Fatal(err)
	}
	asked, err := Open(ctx, python, Options{AlwaysAsk: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, asked) {
		t.Errorf("from the layout:\n %+v\nasked the interpreter:\n %+v", fast, asked)
	}
	// pip itself, run for that interpreter (the venv has none of its own).
	out := run(t, systemPython, "-m", "pip", "--python", python, "list", "--format=json")
	if got, want := listed(fast), parsePipJSON(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("Open = %v, pip list = %v", got, want)
	}
	if len(fast.Dists) != 4 {
		t.Errorf("Dists = %v, want the 4 written", fast.Dists)
	}

	// An old venv whose Python is gone (bin/python links to a removed python3.8) is
	// still read.
	os.Remove(python)
	if err := os.Symlink(filepath.Join(t.TempDir(), "python3.8"), python); err != nil {
		t.Fatal(err)
	}
	broken, err := Open(ctx, python, Options{})
	if err != nil || !reflect.DeepEqual(broken.Dists, fast.Dists) {
		t.Errorf("Open(broken interpreter) = %v, %v", broken, err)
	}
}
