package upgrade

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pyenv"
	"omflow-upgrade/upgrade/pyenv/pyenvtest"
	"omflow-upgrade/upgrade/runlog"
)

// TestPythonMoveThatFailsRollsBackTheVenv moves a demo installation whose environment
// runs an older Python to the Python the update requires; the new environment cannot get
// its packages (an empty wheel folder, no index). The new environment is prepared while
// the old service runs, so the update fails before the stop: the service is never
// stopped, the prepared environment is removed and the tree is as it was. The exit is 4
// (failed, rolled back), not 3 (refused): the run had begun (journal, backup, a venv
// beside the old one) and undid it; pip's reason is the error.
func TestPythonMoveThatFailsRollsBackTheVenv(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	oldVenv(t, in)
	before := snapshot(t, in.Root)

	p := buildPackage(t, release{version: "1.2.0.0", python: "3.11", files: map[string]string{"server/omflow/views.py": "# 1.2.0.0\n"}})
	opt := options(t, in)
	r, err := openSession(t, opt).Check(context.Background(), p, false)
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
	log := runLog(t, &opt)
	stopped := false
	opt.Hook = func(point string, _ int) { stopped = stopped || point == "stopped" }
	_, err = openSession(t, opt).Apply(context.Background(), p)
	if outcome.ExitCode(err) != outcome.ExitRolledBack || !errors.Is(err, pyenv.ErrInstallFailed) {
		t.Fatalf("exit %d: %v", outcome.ExitCode(err), err)
	}
	if stopped || strings.Contains(steps.String(), StepStop) {
		t.Fatalf("the service was stopped for a pip failure: %s", steps.String())
	}
	lines := log()
	if pip, stop := firstLogLine(lines, "-m pip install"), firstLogLine(lines, "service stop"); pip < 0 || stop >= 0 {
		t.Fatalf("pip install at log line %d, service stop at %d:\n%s", pip, stop, strings.Join(lines, "\n"))
	}
	if _, err := os.Lstat(in.PythonDir() + pyenv.NewVenvSuffix); !os.IsNotExist(err) {
		t.Fatalf("the prepared environment is left: %v", err)
	}
	sameTree(t, before, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}

// runLog gives opt a run log in a temporary folder and returns its reader.
func runLog(t *testing.T, opt *Options) func() []string {
	dir := t.TempDir()
	opt.Log = runlog.Open(dir, "apply")
	t.Cleanup(func() { opt.Log.Close() })
	return func() []string {
		b, err := os.ReadFile(opt.Log.Path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(b), "\n")
	}
}

// firstLogLine is the index of the first line containing s, or -1.
func firstLogLine(lines []string, s string) int {
	for i, l := range lines {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

// lastLogLine is the index of the last line containing s, or -1.
func lastLogLine(lines []string, s string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], s) {
			return i
		}
	}
	return -1
}

// stepList keeps the steps a run announced.
type stepList struct {
	NoProgress
	steps []string
}

func (s *stepList) Step(name string) { s.steps = append(s.steps, name) }
func (s *stepList) String() string   { return strings.Join(s.steps, " ") }

// TestWindowsPythonMoveOnOMFLOWsOwnPython is the seed's Windows 1.2.0.0 on the Windows
// layout of a real OMFLOW: Python\ is a plain 32-bit Python 3.7 (no pyvenv.cfg; its
// python.exe does not run here, its python37.dll names the version). The check finds the
// move, then refuses while Python311\ is missing or of another bitness than Apache, and
// lists the packages apply will install into it.
func TestWindowsPythonMoveOnOMFLOWsOwnPython(t *testing.T) {
	root := filepath.Join(t.TempDir(), "OMFLOW Server")
	write := func(rel, content string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	stub := func(rel, testdata string) {
		b, err := os.ReadFile(filepath.Join("install", "testdata", "python", filepath.FromSlash(testdata)))
		if err != nil {
			t.Fatal(err)
		}
		write(rel, string(b))
	}
	dist := func(py, name, version string) {
		write(py+"/Lib/site-packages/"+name+"-"+version+".dist-info/METADATA", "Metadata-Version: 2.1\nName: "+name+"\nVersion: "+version+"\n")
	}
	write("omflow/omflow/syscom/version.bin", "version=1.1.6.3\r\nversion_num=001001006003\r\n")
	stub("Apache24/bin/httpd.exe", "omflow-python37-32/python.exe")
	stub("Python/python.exe", "omflow-python37-32/python.exe")
	stub("Python/python37.dll", "omflow-python37-32/python37.dll")
	dist("Python", "Django", "2.2.28")
	dist("Python", "ldap3", "2.9")
	dist("Python", "python_ldap", "3.4.0")
	in, err := detectAt(root)
	if err != nil {
		t.Fatal(err)
	}
	p := buildPackage(t, release{version: "1.2.0.0", python: "3.11", files: map[string]string{"omflow/omflow/views.py": "# 1.2.0.0\n"}})
	check := func() CheckItem {
		r, _ := openSession(t, options(t, in)).Check(context.Background(), p, false)
		for _, c := range r.Checks {
			if c.Name == CheckPython {
				return c
			}
		}
		t.Fatalf("no python check: %+v", r.Checks)
		return CheckItem{}
	}
	if c := check(); c.OK || c.Reason != "python-missing" || !strings.Contains(c.Message, `Python311`) || !strings.Contains(c.Message, "32-bit") {
		t.Fatalf("without Python311: %+v", c)
	}
	stub("Python311/python.exe", "python311-64/python.exe")
	stub("Python311/python311.dll", "python311-64/python311.dll")
	dist("Python311", "django", "4.2")
	if c := check(); c.OK || c.Reason != ReasonPythonBitness || !strings.Contains(c.Message, "64-bit") || !strings.Contains(c.Message, "httpd.exe") {
		t.Fatalf("with a 64-bit Python311 beside a 32-bit Apache: %+v", c)
	}
	stub("Python311/python.exe", "omflow-python37-32/python.exe")
	os.Remove(filepath.Join(root, "Python311", "python311.dll"))
	stub("Python311/python311.dll", "omflow-python37-32/python37.dll")
	c := check()
	if !c.OK || c.Reason != "python-move" || !strings.Contains(c.Message, "3.7 (32-bit)") || !strings.Contains(c.Message, "ldap3==2.9 python_ldap==3.4.0") {
		t.Fatalf("with packages to install: %+v", c)
	}
	dist("Python311", "ldap3", "2.9")
	dist("Python311", "python-ldap", "3.4.3")
	if c := check(); !c.OK || c.Reason != "python-move" || !strings.Contains(c.Message, "every package") {
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
// The new environment is made and gets its packages while the old service runs: between
// the stop and the start there are only renames (SPEC 4.4).
func TestPythonMoveOnADemo(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	site := oldVenv(t, in)
	venv, cfg := in.PythonDir(), filepath.Join(in.PythonDir(), "pyvenv.cfg")
	for _, p := range [][2]string{{"Django", "2.2.28"}, {"ldap3", "2.9.1"}, {"mod_wsgi", "4.9.0"}, {"openpyxl", "3.0.9"}, {"pytz", "2021.3"}, {"omtool", "1.0"}} {
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
		// A package with a console script: pip writes bin/omtool, whose shebang names the
		// environment's python.
		{Name: "omtool", Version: "1.0", Files: map[string]string{
			"omtool_cli.py":                         "import sys\n\ndef main():\n    print('omtool prefix=' + sys.prefix)\n",
			"omtool-1.0.dist-info/entry_points.txt": "[console_scripts]\nomtool = omtool_cli:main\n",
		}},
	} {
		pyenvtest.BuildWheel(t, wheels, w)
	}
	before := snapshot(t, in.Root)

	p := buildPackage(t, release{version: "1.2.0.0", python: "3.11", files: map[string]string{"server/omflow/views.py": "# 1.2.0.0\n"}})
	opt := options(t, in)
	opt.Override.ApacheConf, opt.Wheels = conf, wheels
	var steps stepList
	opt.Progress = &steps
	log := runLog(t, &opt)
	// At the stop, the new environment is already complete beside the old one.
	prepared := ""
	opt.Hook = func(point string, _ int) {
		if point == "stopped" {
			prepared = "stopped"
			if m, _ := filepath.Glob(filepath.Join(venv+pyenv.NewVenvSuffix, "lib", "python3.11", "site-packages", "*.dist-info")); containsFold(m, "django-4.2.dist-info") && containsFold(m, "pytz-2021.3.dist-info") {
				prepared = "ready"
			}
		}
	}
	rep, err := openSession(t, opt).Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("downtime of the Python move: %d ms", rep.DowntimeMS)
	if want := StepBackup + " " + StepPythonPrepare + " " + StepStop; !strings.Contains(steps.String(), want) {
		t.Errorf("steps %q, want the environment prepared between the backup and the stop (%q)", steps.String(), want)
	}
	if prepared != "ready" {
		t.Errorf("at the stop the new environment was not ready beside the old one (%q)", prepared)
	}
	lines := log()
	if pip, stop := lastLogLine(lines, "-m pip install"), firstLogLine(lines, "service stop"); pip < 0 || stop < 0 || pip > stop || lastLogLine(lines, "pip:") > stop {
		t.Errorf("pip ran at log line %d, after the stop at line %d:\n%s", pip, stop, strings.Join(lines, "\n"))
	}
	if _, err := os.Lstat(venv + pyenv.NewVenvSuffix); !os.IsNotExist(err) {
		t.Errorf("the prepared environment is still beside: %v", err)
	}
	// The environment works from its final path: python -m pip, the scripts' shebangs.
	for _, argv := range [][]string{
		{filepath.Join(venv, "bin", "python"), "-m", "pip", "--version"},
		{filepath.Join(venv, "bin", "pip"), "--version"},
		{filepath.Join(venv, "bin", "omtool")},
	} {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), venv+string(filepath.Separator)) && !strings.Contains(string(out), "prefix="+venv) || strings.Contains(string(out), pyenv.NewVenvSuffix) {
			t.Errorf("%s: %v %s", strings.Join(argv, " "), err, out)
		}
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

	if _, err := openSession(t, options(t, in)).Rollback(context.Background()); err != nil {
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
// python/: a real venv (Debian's Python 3.11, made with venvArgs too) whose pyvenv.cfg says
// 3.8. It returns its site-packages folder.
func oldVenv(t *testing.T, in *install.Installation, venvArgs ...string) string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3.11", "-c", "import venv, ensurepip").Run(); err != nil {
		testneed.Missing(t, "Debian's python3.11 with venv (apt-get install python3-venv)")
	}
	venv := in.PythonDir()
	if out, err := exec.Command("/usr/bin/python3.11", append([]string{"-m", "venv", "--without-pip"}, append(venvArgs, venv)...)...).CombinedOutput(); err != nil {
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
