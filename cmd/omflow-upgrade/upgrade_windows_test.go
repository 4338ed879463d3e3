package main

// Whole upgrades on Windows, through the real service control manager: on Windows as
// administrator, and on Linux under Wine (Wine runs everything as administrator):
//
//	GOOS=windows go test -exec "$PWD/scripts/wine-exec.sh" -run Windows ./cmd/omflow-upgrade/
//
// Only the TestWindows* tests are for Wine: the others use Unix control scripts and
// t.TempDir, which cannot clean up under Wine (see upgrade/svc/scm_windows_test.go).
// The demo's service program (Apache24\bin\OMFLOWServer.exe) is this test binary: its
// TestMain serves the demo when the SCM starts it with the demo's service command.
//
// Wine differences met here (Wine 8.0, Debian 12):
//   - A service lives as long as the wineserver: when the last Wine process of the prefix
//     ends, services.exe and the services go, and the next Wine process starts the
//     automatic ones again (as a boot would). Each test runs in one process, which keeps
//     the wineserver up.
//   - os.RemoveAll fails on non-empty folders (upgrade/svc/scm_windows_test.go):
//     tempTree removes entry by entry.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	winsvc "golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/rmtree"
)

// holdEnv makes the test binary a process that holds a file open as a program that does
// not share delete access does (an editor, a log viewer), until its stdin closes.
const holdEnv = "OMFLOW_UPGRADE_TEST_HOLD"

func init() {
	if p := os.Getenv(holdEnv); p != "" {
		os.Exit(holdFile(p))
	}
}

func holdFile(p string) int {
	name, err := windows.UTF16PtrFromString(p)
	if err != nil {
		return 1
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ, windows.FILE_SHARE_READ, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		fmt.Println("cannot hold:", err)
		return 1
	}
	defer windows.CloseHandle(h)
	fmt.Println("held")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

func requireAdmin(t *testing.T) {
	t.Helper()
	if !windows.GetCurrentProcessToken().IsElevated() {
		t.Skip("needs administrator rights to register services (Wine runs as administrator)")
	}
}

// tempTree is t.TempDir for Wine, whose os.RemoveAll fails on folders: the cleanup removes
// entry by entry, and retries while a just-stopped service lets go of its program.
func tempTree(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "omflow-cli-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 100 {
			if err = rmtree.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("remove %s: %v", dir, err)
	})
	return dir
}

// winFixture is a Windows-layout demo registered in the SCM, a key pair and a folder to
// build packages from.
type winFixture struct {
	dir, root, pub, key, service, url string
}

func newWinFixture(t *testing.T, installed string) *winFixture {
	t.Helper()
	requireAdmin(t)
	f := &winFixture{dir: tempTree(t)}
	// A space in the root, as in C:\Program Files\OMFLOW Server.
	f.root = filepath.Join(f.dir, "OMFLOW Server")
	r := cmd(t, "demo", "-root", f.root, "-version", installed, "-port", "0", "-json")
	if r.code != 0 {
		t.Fatalf("demo: %+v", r)
	}
	j := r.json(t)
	f.service, _ = j["service"].(string)
	f.url, _ = j["url"].(string)
	if !strings.HasPrefix(f.service, "OMFLOWServer-") || f.url == "" {
		t.Fatalf("demo -json: %v", j)
	}
	// Registered after the tree, so removed before it (cleanups run last-in first-out).
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := demo.RemoveService(ctx, f.root); err != nil {
			t.Errorf("remove the demo's service: %v", err)
		}
	})
	if r := cmd(t, "keygen", "-out", filepath.Join(f.dir, "keys")); r.code != 0 {
		t.Fatalf("keygen: %+v", r)
	}
	f.pub = filepath.Join(f.dir, "keys", "omflow-upgrade.pub")
	f.key = filepath.Join(f.dir, "keys", "omflow-upgrade.key")
	return f
}

// pack builds a signed package of version v from files (root-relative slash paths to
// contents).
func (f *winFixture) pack(t *testing.T, v string, files map[string][]byte) string {
	t.Helper()
	src := filepath.Join(f.dir, "src-"+v+fmt.Sprint(len(files)))
	for rel, b := range files {
		p := filepath.Join(src, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(f.dir, fmt.Sprintf("omflow_update_%s_%d.tar.gz", strings.ReplaceAll(v, ".", "_"), len(files)))
	if r := cmd(t, "pack", "-key", f.key, "-version", v, "-out", out, src); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	return out
}

// scmState is what the SCM itself says of the demo's service: state, pid, start type.
func (f *winFixture) scmState(t *testing.T) (winsvc.State, uint32, uint32) {
	t.Helper()
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(f.service)
	if err != nil {
		t.Fatalf("open service %s: %v", f.service, err)
	}
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		t.Fatal(err)
	}
	// Service.Config fails under Wine; the registry holds the start type.
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\`+f.service, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	start, _, err := k.GetIntegerValue("Start")
	if err != nil {
		t.Fatal(err)
	}
	return st.State, st.ProcessId, uint32(start)
}

// answers checks that the service runs (SCM), starts automatically, and serves version v.
func (f *winFixture) answers(t *testing.T, v string) uint32 {
	t.Helper()
	st, pid, start := f.scmState(t)
	if st != winsvc.Running || pid == 0 {
		t.Fatalf("service %s: state %d pid %d, want running", f.service, st, pid)
	}
	if start != uint32(mgr.StartAutomatic) {
		t.Errorf("service %s: start type %d, want automatic (%d)", f.service, start, mgr.StartAutomatic)
	}
	resp, err := http.Get(f.url)
	if err != nil {
		t.Fatalf("GET %s: %v", f.url, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "OMFLOW "+v+"<") {
		t.Fatalf("GET %s: %d %q, want OMFLOW %s", f.url, resp.StatusCode, body, v)
	}
	if _, err := os.Stat(filepath.Join(f.root, ".omflow-upgrade", "autostart.json")); err == nil {
		t.Errorf("the saved start types are still there while the service runs")
	}
	return pid
}

func TestWindowsDemoLayoutAndService(t *testing.T) {
	f := newWinFixture(t, "1.1.6.1")
	for _, rel := range []string{`Apache24\bin\OMFLOWServer.exe`, `Apache24\conf\httpd.conf`, `Python`, `omflow\omflow\syscom\version.bin`,
		`omflow\omflow\settings.py`, `omflow\db.omflow`, `logs`, `omflow-upgrade.json`} {
		if _, err := os.Stat(filepath.Join(f.root, rel)); err != nil {
			t.Errorf("demo layout: %v", err)
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(f.root, "omflow-upgrade.json"))
	if !strings.Contains(string(cfg), f.service) || !strings.Contains(string(cfg), f.url) {
		t.Errorf("omflow-upgrade.json names neither the service nor the health URL:\n%s", cfg)
	}
	// The service runs the program under the root, in service mode by an explicit argument.
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\`+f.service, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	image, _, _ := k.GetStringValue("ImagePath")
	display, _, _ := k.GetStringValue("DisplayName")
	k.Close()
	want := `"` + filepath.Join(f.root, demo.ServiceProgramRel) + `" ` + demo.ServiceCommand
	if !strings.HasPrefix(image, want) || !strings.HasPrefix(display, "OMFLOW Server") {
		t.Errorf("service %s: ImagePath %q (want it to start with %q), DisplayName %q", f.service, image, want, display)
	}
	f.answers(t, "1.1.6.1")

	// The service reads version.bin at every request, as OMFLOW does.
	vf := filepath.Join(f.root, `omflow\omflow\syscom\version.bin`)
	b, _ := os.ReadFile(vf)
	if !strings.Contains(string(b), "\r\n") {
		t.Errorf("version.bin %q: a Windows installation's has CRLF line ends", b)
	}
	os.WriteFile(vf, []byte("version=1.1.6.2\r\nversion_num=001001006002\r\n"), 0o644)
	f.answers(t, "1.1.6.2")
	os.WriteFile(vf, b, 0o644)

	// A second demo on the same machine gets its own port and service.
	g := newWinFixture(t, "1.2.0.0")
	if g.service == f.service || g.url == f.url {
		t.Fatalf("two demos clash: %s %s / %s %s", f.service, f.url, g.service, g.url)
	}
	g.answers(t, "1.2.0.0")
	f.answers(t, "1.1.6.1")
	// Asking for a port whose demo service exists is refused, and nothing is made.
	other := filepath.Join(f.dir, "other")
	port := strings.TrimPrefix(f.service, "OMFLOWServer-")
	if r := cmd(t, "demo", "-root", other, "-version", "1.1.6.1", "-port", port); r.code != 3 || !strings.Contains(r.stderr, f.service) {
		t.Fatalf("demo on a taken port: %+v", r)
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("the refused demo left %s", other)
	}
	// A port another program listens on is refused before anything is made.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if r := cmd(t, "demo", "-root", other, "-version", "1.1.6.1", "-port", busy); r.code != 2 || !strings.Contains(r.stderr, busy) {
		t.Fatalf("demo on a busy port: %+v", r)
	}
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService("OMFLOWServer-" + busy); err == nil {
		s.Close()
		t.Errorf("the refused demo registered OMFLOWServer-%s", busy)
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("the refused demo left %s", other)
	}
}

func TestWindowsCheckApplyStatusRollback(t *testing.T) {
	f := newWinFixture(t, "1.1.6.1")
	pkgPath := f.pack(t, "1.1.6.3", map[string][]byte{
		"omflow/omflow/views.py":   []byte("# OMFLOW 1.1.6.3\r\n"),
		"omflow/omflow/new/api.py": []byte("# new in 1.1.6.3\r\n"),
	})
	before := tree(t, f.root)
	pid0 := f.answers(t, "1.1.6.1")

	r := cmd(t, "check", "-root", f.root, "-pubkey", f.pub, "-files", "-json", pkgPath)
	j := r.json(t)
	if r.code != 0 || j["allowed"] != true || j["installed"] != "1.1.6.1" || j["update"] != "1.1.6.3" || j["reason"] != "fix-release" {
		t.Fatalf("check: exit %d %v", r.code, j)
	}
	if checks, _ := j["checks"].([]any); len(checks) == 0 {
		t.Fatalf("check -json has no checks: %v", j)
	}
	sameTree(t, before, tree(t, f.root))
	if _, _, start := f.scmState(t); start != uint32(mgr.StartAutomatic) {
		t.Fatalf("check changed the start type to %d", start)
	}

	// While the tree changes, the service is stopped and cannot start by itself.
	var seen []string
	testHook = func(point string, _ int) {
		if point != "stopped" && point != "started" {
			return
		}
		st, _, start := f.scmState(t)
		seen = append(seen, fmt.Sprintf("%s: state %d start %d", point, st, start))
	}
	defer func() { testHook = nil }()
	r = cmd(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-json", pkgPath)
	testHook = nil
	j = r.json(t)
	if r.code != 0 || j["ok"] != true || j["version"] != "1.1.6.3" || j["from"] != "1.1.6.1" || j["rolled_back"] != false || j["exit"] != float64(0) {
		t.Fatalf("apply: exit %d %v\n%s", r.code, j, r.stderr)
	}
	wantSeen := []string{
		fmt.Sprintf("stopped: state %d start %d", winsvc.Stopped, mgr.StartManual),
		fmt.Sprintf("started: state %d start %d", winsvc.Running, mgr.StartAutomatic),
	}
	if strings.Join(seen, "; ") != strings.Join(wantSeen, "; ") {
		t.Errorf("service during apply: %q, want %q", seen, wantSeen)
	}
	for _, k := range []string{"backup", "log", "downtime_ms", "files"} {
		if _, ok := j[k]; !ok {
			t.Errorf("apply -json lacks %q: %v", k, j)
		}
	}
	pid1 := f.answers(t, "1.1.6.3")
	if pid1 == pid0 {
		t.Errorf("the service was not restarted (pid %d)", pid1)
	}
	if b, _ := os.ReadFile(filepath.Join(f.root, `omflow\omflow\syscom\version.bin`)); string(b) != "version=1.1.6.3\r\nversion_num=001001006003\r\n" {
		t.Errorf("version.bin after apply: %q", b)
	}

	r = cmd(t, "status", "-root", f.root, "-json")
	j = r.json(t)
	backups, _ := j["backups"].([]any)
	if r.code != 0 || j["version"] != "1.1.6.3" || j["service"] != "running" || j["healthy"] != true || j["pending"] != nil || len(backups) != 1 {
		t.Fatalf("status: exit %d %v", r.code, j)
	}

	r = cmd(t, "rollback", "-root", f.root, "-json")
	j = r.json(t)
	if r.code != 0 || j["ok"] != true || j["action"] != "rolled-back" || j["version"] != "1.1.6.1" {
		t.Fatalf("rollback: exit %d %v\n%s", r.code, j, r.stderr)
	}
	if pid2 := f.answers(t, "1.1.6.1"); pid2 == pid1 {
		t.Errorf("rollback did not restart the service (pid %d)", pid2)
	}
	sameTree(t, before, tree(t, f.root))

	r = cmd(t, "rollback", "-root", f.root, "-json")
	if r.code != 3 {
		t.Fatalf("second rollback: exit %d, want 3 (nothing left to undo)\n%s%s", r.code, r.stdout, r.stderr)
	}
	f.answers(t, "1.1.6.1")
}

// TestWindowsServiceThatWillNotStartIsRolledBack: the update replaces the service's
// program with one that exits at once (the system's hostname.exe, which takes no such
// arguments); the SCM cannot start it, so apply rolls back and the old service runs.
func TestWindowsServiceThatWillNotStartIsRolledBack(t *testing.T) {
	f := newWinFixture(t, "1.1.6.1")
	quitter, err := os.ReadFile(filepath.Join(os.Getenv("SystemRoot"), "System32", "hostname.exe"))
	if err != nil {
		t.Fatal(err)
	}
	pkgPath := f.pack(t, "1.1.6.3", map[string][]byte{
		"omflow/omflow/views.py":        []byte("# OMFLOW 1.1.6.3\r\n"),
		"Apache24/bin/OMFLOWServer.exe": quitter,
	})
	before := tree(t, f.root)
	pid0 := f.answers(t, "1.1.6.1")
	r := cmd(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-json", pkgPath)
	j := r.json(t)
	if r.code != 4 || j["ok"] != false || j["rolled_back"] != true || j["version"] != "1.1.6.1" || j["exit"] != float64(4) {
		t.Fatalf("apply: exit %d %v\n%s", r.code, j, r.stderr)
	}
	if msg, _ := j["error"].(string); !strings.Contains(msg, f.service) {
		t.Errorf("the error does not name the service: %q", msg)
	}
	if pid := f.answers(t, "1.1.6.1"); pid == pid0 {
		t.Errorf("the old service was not restarted (pid %d)", pid)
	}
	sameTree(t, before, tree(t, f.root))
	r = cmd(t, "status", "-root", f.root, "-json")
	if j := r.json(t); j["version"] != "1.1.6.1" || j["healthy"] != true || j["pending"] != nil {
		t.Fatalf("status: %v", j)
	}
}

// TestWindowsFileHeldOpenNeverMixesTheTree: another process holds a file the update
// replaces, without sharing delete access, so it cannot be renamed: the update names the
// file and leaves the old tree, with the old service running.
func TestWindowsFileHeldOpenNeverMixesTheTree(t *testing.T) {
	f := newWinFixture(t, "1.1.6.1")
	pkgPath := f.pack(t, "1.1.6.3", map[string][]byte{
		"omflow/omflow/__init__.py": []byte("# OMFLOW 1.1.6.3\r\n"),
		"omflow/omflow/views.py":    []byte("# OMFLOW 1.1.6.3\r\n"),
		"omflow/omflow/urls.py":     []byte("# OMFLOW 1.1.6.3\r\n"),
	})
	held := filepath.Join(f.root, `omflow\omflow\urls.py`)
	holder := exec.Command(os.Args[0])
	holder.Env = append(os.Environ(), holdEnv+"="+held)
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Wait()
	defer stdin.Close()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(line) != "held" {
		t.Fatalf("the holder process: %q", line)
	}
	before := tree(t, f.root)
	r := cmd(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-json", pkgPath)
	j := r.json(t)
	t.Logf("apply with %s held: exit %d, error %v", held, r.code, j["error"])
	if r.code != 3 && r.code != 4 {
		t.Fatalf("apply: exit %d, want 3 (refused) or 4 (rolled back)\n%v", r.code, j)
	}
	if msg, _ := j["error"].(string); !strings.Contains(msg, "urls.py") {
		t.Errorf("the error does not name the held file: %q", msg)
	}
	if j["version"] != "1.1.6.1" {
		t.Errorf("apply -json version %v, want 1.1.6.1", j["version"])
	}
	sameTree(t, before, tree(t, f.root))
	f.answers(t, "1.1.6.1")
	stdin.Close()
	if err := holder.Wait(); err != nil {
		t.Errorf("the holder process: %v", err)
	}
	// Once the file is free, the same package goes in.
	r = cmd(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-json", pkgPath)
	if j := r.json(t); r.code != 0 || j["version"] != "1.1.6.3" {
		t.Fatalf("apply once the file is free: exit %d %v", r.code, j)
	}
	f.answers(t, "1.1.6.3")
}

// TestWindowsKilledApplyKeepsTheFenceUntilRecover: apply is killed (TerminateProcess, as
// a power cut would end it) once the service is stopped and files are moving; the
// service must not start by itself meanwhile (manual start, as the saved start types
// say), and recover puts the old tree back, the start type back to automatic, and the
// service running.
func TestWindowsKilledApplyKeepsTheFenceUntilRecover(t *testing.T) {
	f := newWinFixture(t, "1.1.6.1")
	pkgPath := f.pack(t, "1.1.6.3", map[string][]byte{
		"omflow/omflow/views.py":   []byte("# OMFLOW 1.1.6.3\r\n"),
		"omflow/omflow/new/api.py": []byte("# new in 1.1.6.3\r\n"),
	})
	before := tree(t, f.root)
	f.answers(t, "1.1.6.1")
	child := exec.Command(os.Args[0], "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-json", pkgPath)
	child.Env = append(os.Environ(), childEnv+"=1", killEnv+"=op:1")
	out, err := child.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("apply was not killed: %v\n%s", err, out)
	}
	st, _, start := f.scmState(t)
	if st != winsvc.Stopped || start != uint32(mgr.StartManual) {
		t.Fatalf("after the kill: state %d start type %d, want stopped (%d) and manual (%d)", st, start, winsvc.Stopped, mgr.StartManual)
	}
	saved, err := os.ReadFile(filepath.Join(f.root, ".omflow-upgrade", "autostart.json"))
	if err != nil || !strings.Contains(string(saved), `"`+f.service+`": "automatic"`) {
		t.Fatalf("saved start types: %v %s", err, saved)
	}
	j := cmd(t, "status", "-root", f.root, "-json").json(t)
	if j["pending"] == nil || j["service"] != "stopped" {
		t.Fatalf("status after the kill: %v", j)
	}
	r := cmd(t, "recover", "-root", f.root, "-json")
	if j := r.json(t); r.code != 0 || j["action"] != "rolled-back" || j["version"] != "1.1.6.1" {
		t.Fatalf("recover: exit %d %v", r.code, j)
	}
	f.answers(t, "1.1.6.1")
	sameTree(t, before, tree(t, f.root))
}
