package pyenv

import (
	"encoding/json"
	"fmt"
	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/pyenv/pyenvtest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// systemPython is Debian's interpreter (python3-venv, python3-pip); "python3" on PATH may
// be a shim of some other Python.
const systemPython = "/usr/bin/python3"

func TestMain(m *testing.M) {
	// The machine's pip settings (an extra find-links folder, an index) must not decide
	// what the tests' offline installs find.
	for _, k := range []string{"PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX", "PIP_REQUIRE_VIRTUALENV", "PIP_USER", "PIP_TARGET", "PIP_PREFIX"} {
		os.Unsetenv(k)
	}
	os.Setenv("PIP_CONFIG_FILE", os.DevNull)
	os.Exit(m.Run())
}

// findModules fails naming the modules the tests need that are not there; it looks them
// up without importing (setuptools and pip do not import together).
const findModules = `import importlib.util as u, sys
missing = [m for m in ("venv", "ensurepip", "pip", "setuptools", "wheel") if u.find_spec(m) is None]
sys.exit("missing: " + " ".join(missing) if missing else 0)
`

var pythonMissing = sync.OnceValue(func() string {
	if _, err := os.Stat(systemPython); err != nil {
		return err.Error()
	}
	out, err := exec.Command(systemPython, "-c", findModules).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%v: %s", err, out)
	}
	return ""
})

// needPython skips when Debian's python3 with venv, pip, setuptools and wheel is absent
// (CI installs python3-venv and python3-pip, which bring the rest).
func needPython(t testing.TB) {
	t.Helper()
	if why := pythonMissing(); why != "" {
		testneed.Missing(t, "%s with venv and pip (apt-get install python3-venv python3-pip): %s", systemPython, why)
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// makeVenv creates a venv with /usr/bin/python3 -m venv.
func makeVenv(t testing.TB, dir string, args ...string) string {
	t.Helper()
	needPython(t)
	run(t, systemPython, append(append([]string{"-m", "venv"}, args...), dir)...)
	return filepath.Join(dir, "bin", "python")
}

// wheelSpec is a wheel the tests build (pyenvtest.Wheel).
type wheelSpec = pyenvtest.Wheel

// buildWheel writes the wheel of spec into dir and returns its path.
func buildWheel(t testing.TB, dir string, spec wheelSpec) string {
	return pyenvtest.BuildWheel(t, dir, spec)
}

// writeDistInfo writes NAME-VER.dist-info/METADATA into a site-packages folder.
func writeDistInfo(t testing.TB, site, name, version string) {
	pyenvtest.WriteDistInfo(t, site, name, version)
}

// pipList is what `python -m pip list --format=json` shows: name -> version.
func pipList(t testing.TB, python string) map[string]string {
	t.Helper()
	return parsePipJSON(t, run(t, python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"))
}

func parsePipJSON(t testing.TB, out string) map[string]string {
	t.Helper()
	var rows []struct{ Name, Version string }
	i := strings.Index(out, "[")
	if i < 0 {
		t.Fatalf("pip list printed no JSON:\n%s", out)
	}
	if err := json.Unmarshal([]byte(out[i:]), &rows); err != nil {
		t.Fatalf("pip list: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, r := range rows {
		m[r.Name] = r.Version
	}
	return m
}

// listed is what Open found, spelled as pip list prints it (PEP 440 normal versions).
func listed(env *Env) map[string]string {
	m := map[string]string{}
	for _, d := range env.Dists {
		m[d.Name] = ParseVersion(d.Version).String()
	}
	return m
}

func runQuiet(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// pipListPath is `pip list --path DIR`: what pip finds in that one folder.
func pipListPath(t testing.TB, python, dir string) map[string]string {
	t.Helper()
	return parsePipJSON(t, run(t, python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check", "--path", dir))
}
