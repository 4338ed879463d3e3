package upgrade

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pyenv/pyenvtest"
)

// TestPythonMoveThatFailsRollsBackTheVenv moves a demo installation whose environment
// runs an older Python to the Python the update requires; the new environment cannot get
// its packages (an empty wheel folder, no index): the update fails, and the old venv,
// the tree and the service are back.
func TestPythonMoveThatFailsRollsBackTheVenv(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	oldVenv(t, in)
	before := snapshot(t, in.Root)

	p := buildPackage(t, release{version: "1.2.0.0", python: "3.11", files: map[string]string{"server/omflow/views.py": "# 1.2.0.0\n"}})
	opt := options(t, in)
	r, err := Check(context.Background(), opt, p, false)
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	for _, c := range r.Checks {
		moved = moved || (c.Name == CheckPython && c.OK && strings.Contains(c.Message, "3.8.18"))
	}
	if !moved {
		t.Fatalf("check does not announce the Python move: %+v", r.Checks)
	}
	opt.Wheels = t.TempDir() // offline, and nothing in it
	var steps stepList
	opt.Progress = &steps
	_, err = Apply(context.Background(), opt, p)
	if outcome.ExitCode(err) != outcome.ExitRolledBack {
		t.Fatalf("exit %d: %v", outcome.ExitCode(err), err)
	}
	if !strings.Contains(steps.String(), StepPython) {
		t.Fatalf("the Python step did not run: %s", steps.String())
	}
	sameTree(t, before, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}

// stepList keeps the steps a run announced.
type stepList struct {
	NoProgress
	steps []string
}

func (s *stepList) Step(name string) { s.steps = append(s.steps, name) }
func (s *stepList) String() string   { return strings.Join(s.steps, " ") }

// TestWindowsPython311MustHoldTheOldPackages is the seed's Windows loop, on the Windows
// layout: Python311\ missing, then lacking a package of Python\, then complete.
func TestWindowsPython311MustHoldTheOldPackages(t *testing.T) {
	root := filepath.Join(t.TempDir(), "OMFLOW Server")
	write := func(rel, content string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	dist := func(py, name, version string) {
		write(py+"/Lib/site-packages/"+name+"-"+version+".dist-info/METADATA", "Metadata-Version: 2.1\nName: "+name+"\nVersion: "+version+"\n")
	}
	write("omflow/omflow/syscom/version.bin", "version=1.1.6.3\r\nversion_num=001001006003\r\n")
	write("Python/python.exe", "")
	write("Python/pyvenv.cfg", "version = 3.7.9\n")
	dist("Python", "Django", "2.2.28")
	dist("Python", "ldap3", "2.9")
	dist("Python", "python_ldap", "3.4.0")
	in, err := detectAt(root)
	if err != nil {
		t.Fatal(err)
	}
	p := buildPackage(t, release{version: "1.2.0.0", python: "3.11", files: map[string]string{"omflow/omflow/views.py": "# 1.2.0.0\n"}})
	check := func() CheckItem {
		r, _ := Check(context.Background(), options(t, in), p, false)
		for _, c := range r.Checks {
			if c.Name == CheckPython {
				return c
			}
		}
		t.Fatalf("no python check: %+v", r.Checks)
		return CheckItem{}
	}
	if c := check(); c.OK || c.Reason != "python-missing" || !strings.Contains(c.Message, `Python311`) {
		t.Fatalf("without Python311: %+v", c)
	}
	write("Python311/python.exe", "")
	dist("Python311", "django", "4.2")
	if c := check(); c.OK || !strings.Contains(c.Message, "ldap3==2.9") || !strings.Contains(c.Message, "python-ldap") && !strings.Contains(c.Message, "python_ldap") {
		t.Fatalf("with packages missing: %+v", c)
	}
	dist("Python311", "ldap3", "2.9")
	dist("Python311", "python-ldap", "3.4.3")
	if c := check(); !c.OK {
		t.Fatalf("with every package: %+v", c)
	}
}

func detectAt(root string) (*install.Installation, error) {
	return install.Detect(root, install.Config{})
}

// TestPythonMoveOnADemo is the seed's manual Linux 1.2.0.0 steps done by the update on a
// demo installation: the old environment (Python "3.8", with OMFLOW's extra packages)
// is moved into the backup, a new one is made with Python 3.11 and gets the release's
// packages and the old extras from a folder of wheels, Apache's django.conf is pointed at
// the new mod_wsgi; rollback puts the old environment and django.conf back byte for byte.
func TestPythonMoveOnADemo(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	site := oldVenv(t, in)
	venv, cfg := in.PythonDir(), filepath.Join(in.PythonDir(), "pyvenv.cfg")
	for _, p := range [][2]string{{"Django", "2.2.28"}, {"ldap3", "2.9.1"}, {"mod_wsgi", "4.9.0"}, {"openpyxl", "3.0.9"}, {"pytz", "2021.3"}} {
		pyenvtest.WriteDistInfo(t, site, p[0], p[1])
	}
	confBytes, err := os.ReadFile(filepath.Join("pyenv", "testdata", "apache", "django.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "sites-available", "django.conf")
	os.MkdirAll(filepath.Dir(conf), 0o755)
	os.WriteFile(conf, confBytes, 0o644)
	wheels := t.TempDir()
	for _, w := range []pyenvtest.Wheel{
		{Name: "Django", Version: "4.2"}, {Name: "ldap3", Version: "2.9.1"}, {Name: "openpyxl", Version: "3.1.2"},
		{Name: "wheel", Version: "0.38.4"}, {Name: "pytz", Version: "2021.3"},
		{Name: "mod_wsgi", Version: "4.9.4", Files: map[string]string{
			"mod_wsgi/__init__.py": "",
			"mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so": "stand-in",
		}},
	} {
		pyenvtest.BuildWheel(t, wheels, w)
	}
	before := snapshot(t, in.Root)

	p := buildPackage(t, release{version: "1.2.0.0", python: "3.11", files: map[string]string{"server/omflow/views.py": "# 1.2.0.0\n"}})
	opt := options(t, in)
	opt.Override.ApacheConf, opt.Wheels = conf, wheels
	opt.Override.StartTimeout = 120 // pip installs between the stop and the start
	if _, err := Apply(context.Background(), opt, p); err != nil {
		t.Fatal(err)
	}
	answers(t, in, "1.2.0.0")
	newCfg, _ := os.ReadFile(cfg)
	if strings.Contains(string(newCfg), "3.8.18") {
		t.Fatalf("the environment at python/ was not made again:\n%s", newCfg)
	}
	for _, want := range []string{"django-4.2.dist-info", "pytz-2021.3.dist-info", "mod_wsgi-4.9.4.dist-info"} {
		if m, _ := filepath.Glob(filepath.Join(venv, "lib", "python3.11", "site-packages", "*.dist-info")); !containsFold(m, want) {
			t.Errorf("the new environment lacks %s: %v", want, m)
		}
	}
	got, _ := os.ReadFile(conf)
	if !strings.Contains(string(got), "mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so") || strings.Contains(string(got), "python3.8") {
		t.Fatalf("django.conf not pointed at the new environment:\n%s", got)
	}

	if _, err := Rollback(context.Background(), options(t, in)); err != nil {
		t.Fatal(err)
	}
	sameTree(t, before, snapshot(t, in.Root))
	if got, _ := os.ReadFile(conf); string(got) != string(confBytes) {
		t.Fatalf("django.conf after rollback:\n%s", got)
	}
	answers(t, in, "1.1.6.1")
}

func containsFold(paths []string, base string) bool {
	for _, p := range paths {
		if strings.EqualFold(filepath.Base(p), base) {
			return true
		}
	}
	return false
}

// oldVenv makes the stand-in of OMFLOW's Python 3.8 environment at the installation's
// python/: a real venv (Debian's Python 3.11) whose pyvenv.cfg says 3.8. It returns its
// site-packages folder.
func oldVenv(t *testing.T, in *install.Installation) string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3.11", "-c", "import venv, ensurepip").Run(); err != nil {
		t.Skip("Debian's python3.11 with venv is needed (apt-get install python3-venv)")
	}
	venv := in.PythonDir()
	if out, err := exec.Command("/usr/bin/python3.11", "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("make the old venv: %v %s", err, out)
	}
	cfg := filepath.Join(venv, "pyvenv.cfg")
	b, _ := os.ReadFile(cfg)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "version") {
			lines[i] = "version = 3.8.18"
		}
	}
	os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o644)
	site, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages"))
	if len(site) != 1 {
		t.Fatalf("site-packages of the old venv: %v", site)
	}
	return site[0]
}
