//go:build windows

package svc

// Real tests against the SCM: on Windows as administrator, and on Linux under Wine
// (scripts/wine-exec.sh). The stand-in services run this test binary itself in a service
// mode chosen by an explicit argument (see TestMain), because svc.IsWindowsService reports
// false under Wine.
//
// Wine differences met here (Wine 8.0, Debian 12):
//   - svc.IsWindowsService() is false inside a service process, so the service mode is
//     chosen by the argument helperArg rather than by asking.
//   - mgr.Service.Config() (QueryServiceConfig2) fails; the SCM reads the registry key
//     of the service instead (windowsSCM.Config). ("Invalid level.")
//   - 8.3 short names are hashes (C:\users\root\Temp\OMFL~TCB), not OMFLOW~1: the
//     lookup expands them with GetLongPathName, the shape match alone would miss them.
//   - EnumServicesStatusEx lists Wine's own "Winedevice1", "Winedevice2", which have no
//     registry key: the search by program path logs and skips a service it cannot read.
//   - Go 1.26's os.RemoveAll fails on any folder, even empty ("unlinkat ...: Invalid
//     function"): it deletes with NtSetInformationFile(FileDispositionInformationEx),
//     which Wine 8 rejects with a status Go does not take for "unsupported", so Go never
//     falls back to the old delete. t.TempDir cannot clean up after itself; os.Remove
//     (DeleteFile) works. tempTree removes entry by entry.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
	winsvc "golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

const helperArg = "omflow-test-service"

func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == helperArg {
		os.Exit(runTestService(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

// testService is the stand-in OMFLOW service: "run" starts (through START_PENDING) and
// runs until told to stop; "fail" gives up while starting with exit code 3; "hang" stays
// START_PENDING (taking no stop, as a service that hangs in its start does) for a few
// seconds, then gives up with exit code 4.
type testService struct{ mode string }

func (s testService) Execute(_ []string, req <-chan winsvc.ChangeRequest, st chan<- winsvc.Status) (bool, uint32) {
	st <- winsvc.Status{State: winsvc.StartPending, WaitHint: 5000}
	switch s.mode {
	case "fail":
		return true, 3
	case "hang":
		time.Sleep(3 * time.Second)
		return true, 4
	}
	time.Sleep(200 * time.Millisecond) // a start the caller has to wait for
	st <- winsvc.Status{State: winsvc.Running, Accepts: winsvc.AcceptStop | winsvc.AcceptShutdown}
	for r := range req {
		switch r.Cmd {
		case winsvc.Interrogate:
			st <- r.CurrentStatus
		case winsvc.Stop, winsvc.Shutdown:
			st <- winsvc.Status{State: winsvc.StopPending, WaitHint: 5000}
			time.Sleep(100 * time.Millisecond)
			return false, 0
		}
	}
	return false, 0
}

func runTestService(mode string, args []string) int {
	name := "omflow-test"
	if len(args) > 0 {
		name = args[0]
	}
	// Leave what svc.IsWindowsService says inside a real service beside the program,
	// for the test to report (false under Wine).
	if exe, err := os.Executable(); err == nil {
		is, err := winsvc.IsWindowsService()
		os.WriteFile(exe+".iswinsvc", []byte(fmt.Sprint(is, err)), 0o644)
	}
	if err := winsvc.Run(name, testService{mode: mode}); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		return 1
	}
	return 0
}

func requireAdmin(t *testing.T) *mgr.Mgr {
	t.Helper()
	if !windows.GetCurrentProcessToken().IsElevated() {
		t.Skip("needs administrator rights to create services (Wine runs as administrator)")
	}
	m, err := mgr.Connect()
	if err != nil {
		t.Fatalf("connect to the SCM: %v", err)
	}
	t.Cleanup(func() { m.Disconnect() })
	return m
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// createService installs a stand-in service running exe in mode, removed at the end.
func createService(t *testing.T, m *mgr.Mgr, name, exe, mode string) {
	t.Helper()
	// Under Wine the test often gets the same pid, hence the same service names: a run
	// killed before its cleanup leaves services that would collide.
	if old, err := m.OpenService(name); err == nil {
		old.Close()
		removeService(t, m, name)
	}
	s, err := m.CreateService(name, exe, mgr.Config{
		DisplayName: name,
		StartType:   mgr.StartAutomatic,
	}, helperArg, mode, name)
	if err != nil {
		t.Fatalf("create service %q: %v", name, err)
	}
	s.Close()
	t.Cleanup(func() { removeService(t, m, name) })
}

func removeService(t *testing.T, m *mgr.Mgr, name string) {
	s, err := m.OpenService(name)
	if err != nil {
		t.Errorf("open service %q to remove it: %v", name, err)
		return
	}
	defer s.Close()
	if st, err := s.Query(); err == nil && st.State != winsvc.Stopped {
		s.Control(winsvc.Stop)
		for i := 0; i < 100; i++ {
			if st, err := s.Query(); err != nil || st.State == winsvc.Stopped {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := s.Delete(); err != nil {
		t.Errorf("remove service %q: %v", name, err)
	}
}

// tempTree is t.TempDir for trees: under Wine os.RemoveAll fails on every folder,
// so the cleanup removes one entry at a time, deepest first, and retries a little while
// a just-stopped service's process lets go of its program file.
func tempTree(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "omflow-svc-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for i := 0; i < 100; i++ {
			if err = removeTree(dir); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("remove %s: %v", dir, err)
	})
	return dir
}

func removeTree(dir string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		return err
	}
	for i := len(paths) - 1; i >= 0; i-- {
		if err := os.Remove(paths[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func shortPath(t *testing.T, long string) string {
	t.Helper()
	p, _ := windows.UTF16PtrFromString(long)
	buf := make([]uint16, 1024)
	n, err := windows.GetShortPathName(p, &buf[0], uint32(len(buf)))
	if err != nil {
		t.Fatalf("GetShortPathName %q: %v", long, err)
	}
	return windows.UTF16ToString(buf[:n])
}

// standInRoot makes an installation root with a space in its name, as
// "C:\Program Files\OMFLOW Server" has, holding this test binary as
// Apache24\bin\OMFLOWServer.exe.
func standInRoot(t *testing.T) (root, serverExe string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(tempTree(t), "OMFLOW Server")
	serverExe = filepath.Join(root, `Apache24\bin\OMFLOWServer.exe`)
	copyFile(t, self, serverExe)
	return root, serverExe
}

func TestWindowsSCMStopStartFence(t *testing.T) {
	m := requireAdmin(t)
	root, serverExe := standInRoot(t)
	webExe := filepath.Join(root, `Web Service\omflowweb.exe`)
	copyFile(t, serverExe, webExe)
	tag := fmt.Sprintf("OMFLOWTest%d", os.Getpid())
	serverName, webName := tag, tag+" Web"
	createService(t, m, serverName, serverExe, "run")
	// The web service is registered under its 8.3 short path: lookup must still find it.
	webShort := shortPath(t, webExe)
	t.Logf("web service program, short form: %s", webShort)
	createService(t, m, webName, webShort, "run")

	scm, err := OpenSCM()
	if err != nil {
		t.Fatal(err)
	}
	defer scm.Close()
	man := NewSCMManager(scm, SCMOptions{Root: root, Poll: 20 * time.Millisecond, Logf: t.Logf})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	infos, err := man.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].Name != serverName || infos[1].Name != webName {
		t.Fatalf("services under %s = %+v, want %q then %q", root, infos, serverName, webName)
	}
	if st, err := man.Status(ctx); err != nil || st != Stopped {
		t.Fatalf("status before start = %v, %v", st, err)
	}
	if s, err := m.OpenService(serverName); err == nil {
		_, cerr := s.Config()
		t.Logf("mgr.Service.Config(): %v (the SCM reads the registry instead)", cerr)
		s.Close()
	}
	if err := man.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{serverName, webName} {
		st, err := scm.Query(n)
		if err != nil || st.State != StateRunning || st.PID == 0 {
			t.Fatalf("service %q after Start: %+v, %v", n, st, err)
		}
	}

	// The transaction replaces files by renaming them; a running program must be
	// renamable (SPEC 4.4), as it is on Windows.
	if err := os.Rename(serverExe, serverExe+".old"); err != nil {
		t.Errorf("rename the running service's program: %v", err)
	} else if err := os.Rename(serverExe+".old", serverExe); err != nil {
		t.Fatalf("rename it back: %v", err)
	}
	if b, err := os.ReadFile(serverExe + ".iswinsvc"); err == nil {
		t.Logf("svc.IsWindowsService() inside the service: %s", b)
	}

	restore, err := man.DisableAutostart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	types, err := man.StartTypes(ctx)
	if err != nil || types[serverName] != StartManual || types[webName] != StartManual {
		t.Fatalf("start types while fenced = %v, %v", types, err)
	}
	if err := man.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := man.Status(ctx); err != nil || st != Stopped {
		t.Fatalf("status after stop = %v, %v", st, err)
	}
	// Fenced (manual start) services still start on request.
	if err := man.Start(ctx); err != nil {
		t.Fatalf("start while fenced: %v", err)
	}
	if err := restore(ctx); err != nil {
		t.Fatal(err)
	}
	types, err = man.StartTypes(ctx)
	if err != nil || types[serverName] != StartAutomatic || types[webName] != StartAutomatic {
		t.Fatalf("start types after restore = %v, %v", types, err)
	}
	if err := man.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWindowsSCMErrors(t *testing.T) {
	m := requireAdmin(t)
	_, exe := standInRoot(t)
	tag := fmt.Sprintf("OMFLOWTestErr%d", os.Getpid())
	failing, disabled, hanging := tag+"Fail", tag+"Disabled", tag+"Hang"
	createService(t, m, failing, exe, "fail")
	createService(t, m, hanging, exe, "hang")
	createService(t, m, disabled, exe, "run")
	scm, err := OpenSCM()
	if err != nil {
		t.Fatal(err)
	}
	defer scm.Close()
	if err := scm.SetStartType(disabled, StartDisabled); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		opt     SCMOptions
		timeout time.Duration
		is      error
		msg     string
	}{
		{"service gives up while starting", SCMOptions{Names: []string{failing}}, time.Minute, ErrServiceNotStarted, "exit code 3"},
		// The deadline ends the wait; how long it took is not checked.
		{"service hangs in START_PENDING", SCMOptions{Names: []string{hanging}}, 500 * time.Millisecond, context.DeadlineExceeded, "still START_PENDING"},
		{"service disabled", SCMOptions{Names: []string{disabled}}, time.Minute, ErrServiceDisabled, "sc config"},
		{"service missing", SCMOptions{Names: []string{tag + "Missing"}}, time.Minute, ErrNoService, tag + "Missing"},
		{"no service under the root", SCMOptions{Root: `C:\No OMFLOW Here`}, time.Minute, ErrNoService, `No OMFLOW Here`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Poll, tc.opt.Logf = 20*time.Millisecond, t.Logf
			man := NewSCMManager(scm, tc.opt)
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			err := man.Start(ctx)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Start: %v; want %v mentioning %q", err, tc.is, tc.msg)
			}
			t.Logf("Start: %v", err)
		})
	}
}
