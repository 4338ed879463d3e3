package main

// The Windows Python move (the seed's 1.2.0.0) under Wine: a Windows-layout demo whose
// Python\ is OMFLOW's own 3.7 (32-bit, no pyvenv.cfg, no interpreter that runs here: its
// python37.dll names the version), and a Python311\ whose python.exe is a stand-in (this
// test binary, cross-built for windows/amd64, answering as pyenvtest.StandInPython says
// when started under that name; no CPython, no network, no PyPI here).

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pyenv/pyenvtest"
)

func init() {
	if strings.EqualFold(filepath.Base(os.Args[0]), "python.exe") {
		os.Exit(pyenvtest.StandInPython(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// peStub is the headers of a PE file for machine (0x14c i386, 0x8664 amd64): what the
// bitness is read from.
func peStub(machine uint16) []byte {
	b := make([]byte, 64+24)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 64)
	copy(b[64:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[68:], machine)
	return b
}

func writeFiles(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for rel, b := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// old37 are the packages of the demo's Python 3.7.
var old37 = [][2]string{{"Django", "2.2.28"}, {"ldap3", "2.9.1"}, {"openpyxl", "3.0.10"}, {"pytz", "2022.1"}}

func TestWindowsPythonMove(t *testing.T) {
	f := newWinFixture(t, "1.1.6.3")
	// OMFLOW's Python\: 32-bit 3.7, read from its DLL and its site-packages.
	writeFiles(t, f.root, map[string][]byte{"Python/python37.dll": peStub(0x14c)})
	for _, p := range old37 {
		pyenvtest.WriteDistInfo(t, filepath.Join(f.root, "Python", "Lib", "site-packages"), p[0], p[1])
	}
	// The update: views.py, and no httpd.conf of its own, so the update points the
	// installed one at Python311 (the stand-in is 64-bit: mod_wsgi's win_amd64 module).
	conf, err := os.ReadFile(filepath.Join(f.root, `Apache24\conf\httpd.conf`))
	if err != nil {
		t.Fatal(err)
	}
	newConf, _ := install.RepointHTTPDConf(conf, "Python311", "3.11", 64)
	if !strings.Contains(string(newConf), `\Python311\python311.dll"`) || !strings.Contains(string(newConf), "mod_wsgi.cp311-win_amd64.pyd") {
		t.Fatalf("httpd.conf pointed at Python311:\n%s", newConf)
	}
	src := filepath.Join(f.dir, "src-1.2.0.0")
	writeFiles(t, src, map[string][]byte{"omflow/omflow/views.py": []byte("# OMFLOW 1.2.0.0\r\n")})
	pkgPath := filepath.Join(f.dir, "omflow_update_1_2_0_0.tar.gz")
	if r := cmd(t, "pack", "-key", f.key, "-version", "1.2.0.0", "-from", "1.1.6", "-python", "3.11", "-out", pkgPath, src); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	pythonCheck := func(j map[string]any) map[string]any {
		checks, _ := j["checks"].([]any)
		for _, c := range checks {
			if c, _ := c.(map[string]any); c["name"] == "python" {
				return c
			}
		}
		t.Fatalf("no python check: %v", j)
		return nil
	}

	// No Python311 yet: refused, with the installer to run and where (the old one's bits).
	r := cmd(t, "check", "-root", f.root, "-pubkey", f.pub, "-json", pkgPath)
	c := pythonCheck(r.json(t))
	if msg, _ := c["message"].(string); r.code != 3 || c["reason"] != "python-missing" || !strings.Contains(msg, "Python311") || !strings.Contains(msg, "32-bit") {
		t.Fatalf("check without Python311: exit %d %v", r.code, c)
	}

	// The administrator installs Python 3.11 (here: the stand-in) into Python311\.
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, f.root, map[string][]byte{
		"Python311/python.exe":    self,
		"Python311/python311.dll": peStub(0x8664),
		"Python311/Lib/site-packages/pip-23.0.1.dist-info/METADATA": []byte("Metadata-Version: 2.1\r\nName: pip\r\nVersion: 23.0.1\r\n"),
	})
	r = cmd(t, "check", "-root", f.root, "-pubkey", f.pub, "-json", pkgPath)
	c = pythonCheck(r.json(t))
	msg, _ := c["message"].(string)
	if r.code != 0 || c["ok"] != true || c["reason"] != "python-move" || !strings.Contains(msg, "3.7 (32-bit)") || !strings.Contains(msg, "3.11.0 (64-bit)") ||
		!strings.Contains(msg, "Django==2.2.28 ldap3==2.9.1 openpyxl==3.0.10 pytz==2022.1") || !strings.Contains(msg, "httpd.conf is pointed at it (3 lines)") {
		t.Fatalf("check with Python311: exit %d %v", r.code, c)
	}

	// Online (the stand-in has no network): pip fails before the stop; nothing changed.
	before := tree(t, f.root)
	pid0 := f.answers(t, "1.1.6.3")
	stopped := false
	testHook = func(point string, _ int) { stopped = stopped || point == "stopped" }
	defer func() { testHook = nil }()
	r = cmd(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-json", pkgPath)
	j := r.json(t)
	if errMsg, _ := j["error"].(string); r.code != 4 || j["rolled_back"] != true || !strings.Contains(errMsg, "Python311") || !strings.Contains(errMsg, "Django") {
		t.Fatalf("apply online: exit %d %v", r.code, j)
	}
	if stopped {
		t.Errorf("the service was stopped for a pip failure")
	}
	sameTree(t, before, tree(t, f.root))
	if pid := f.answers(t, "1.1.6.3"); pid != pid0 {
		t.Errorf("the service was restarted (pid %d, was %d)", pid, pid0)
	}

	// From a folder of wheels: installed while OMFLOW runs, then the renames.
	wheels := filepath.Join(f.dir, "wheels")
	os.MkdirAll(wheels, 0o755)
	for _, p := range old37 {
		pyenvtest.BuildWheel(t, wheels, pyenvtest.Wheel{Name: p[0], Version: p[1]})
	}
	site311 := filepath.Join(f.root, "Python311", "Lib", "site-packages")
	ready := ""
	testHook = func(point string, _ int) {
		if point == "stopped" {
			m, _ := filepath.Glob(filepath.Join(site311, "*.dist-info"))
			ready = strings.Join(baseNames(m), " ")
		}
	}
	r = cmd(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-wheels", wheels, "-json", pkgPath)
	testHook = nil
	j = r.json(t)
	if r.code != 0 || j["ok"] != true || j["version"] != "1.2.0.0" {
		t.Fatalf("apply -wheels: exit %d %v\n%s", r.code, j, r.stderr)
	}
	t.Logf("downtime of the Windows Python move: %v ms", j["downtime_ms"])
	// pip ran while OMFLOW ran: its every line comes before the stop.
	logPath, _ := j["log"].(string)
	logText, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(logText), "\n")
	lastPip, stop := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "-m pip install") || strings.Contains(l, "pip: ") {
			lastPip = i
		}
		if stop < 0 && strings.Contains(l, "service stop") {
			stop = i
		}
	}
	if lastPip < 0 || stop < 0 || lastPip > stop {
		t.Errorf("pip at log line %d, the stop at %d:\n%s", lastPip, stop, logText)
	}
	for _, want := range []string{"Django-2.2.28.dist-info", "ldap3-2.9.1.dist-info", "openpyxl-3.0.10.dist-info", "pytz-2022.1.dist-info"} {
		if !strings.Contains(ready, want) {
			t.Errorf("at the stop Python311 lacked %s (had %s)", want, ready)
		}
	}
	f.answers(t, "1.2.0.0")
	if b, _ := os.ReadFile(filepath.Join(f.root, `Apache24\conf\httpd.conf`)); string(b) != string(newConf) {
		t.Errorf("httpd.conf after apply:\n%s", b)
	}
	// The installation now runs on Python311 (httpd.conf loads it): the next update that
	// requires 3.11 moves nothing.
	fix := filepath.Join(f.dir, "omflow_update_1_2_0_1.tar.gz")
	if r := cmd(t, "pack", "-key", f.key, "-version", "1.2.0.1", "-python", "3.11", "-out", fix, src); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	r = cmd(t, "check", "-root", f.root, "-pubkey", f.pub, "-json", fix)
	if j := r.json(t); r.code != 0 || strings.Contains(r.stdout, "python-move") {
		t.Fatalf("check of 1.2.0.1 (Python 3.11) after the move: exit %d %v", r.code, j)
	}

	r = cmd(t, "rollback", "-root", f.root, "-json")
	if j := r.json(t); r.code != 0 || j["version"] != "1.1.6.3" {
		t.Fatalf("rollback: exit %d %v\n%s", r.code, j, r.stderr)
	}
	f.answers(t, "1.1.6.3")
	// Everything is as before but Python311, which keeps the packages it got.
	after := tree(t, f.root)
	for p := range after {
		if strings.HasPrefix(p, "Python311"+string(filepath.Separator)) {
			delete(after, p)
		}
	}
	for p := range before {
		if strings.HasPrefix(p, "Python311"+string(filepath.Separator)) {
			delete(before, p)
		}
	}
	sameTree(t, before, after)
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
