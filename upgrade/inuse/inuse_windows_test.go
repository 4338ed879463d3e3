//go:build windows

package inuse

// A child process (this test binary in "hold" mode) opens a file without
// FILE_SHARE_DELETE, as a log writer or a database does; renaming the file then fails and
// Holders must report it.
//
// Wine differences (Wine 8.0):
//   - The Restart Manager is a stub: RmGetList answers success with no process, so the
//     holder cannot be named; Holders still finds the file (by the rename-style open) and
//     reports it with PID 0, "held open by a process the system does not name".
//   - t.TempDir cannot be used: Go's os.RemoveAll fails under Wine ("Invalid function"),
//     so the test removes its files one by one.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

const holdArg = "omflow-test-hold"

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == holdArg {
		os.Exit(hold(os.Args[2]))
	}
	os.Exit(m.Run())
}

// hold opens file sharing read and write but not delete, says "ready", and keeps it
// open until its standard input closes.
func hold(file string) int {
	p, _ := windows.UTF16PtrFromString(file)
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	defer windows.CloseHandle(h)
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

func TestHoldersNamesTheHolder(t *testing.T) {
	dir, err := os.MkdirTemp("", "omflow-inuse-test-")
	if err != nil {
		t.Fatal(err)
	}
	held, free, missing := filepath.Join(dir, "error.log"), filepath.Join(dir, "free.py"), filepath.Join(dir, "missing.dll")
	t.Cleanup(func() {
		for _, p := range []string{held, held + ".old", free, dir} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("clean up: %v", err)
			}
		}
	})
	for _, f := range []string{held, free} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(self, holdArg, held)
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Wait()
	defer stdin.Close()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("holder said %q, %v", line, err)
	}

	if err := os.Rename(held, held+".old"); err == nil {
		t.Fatal("renamed a file another process holds without FILE_SHARE_DELETE")
	} else {
		t.Logf("rename of the held file: %v", err)
	}
	hs, err := System().Holders(context.Background(), []string{held, free, missing})
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].File != held {
		t.Fatalf("holders = %+v, want exactly %s", hs, held)
	}
	switch {
	case hs[0].PID == uint32(child.Process.Pid):
		t.Logf("holder named: %s", hs[0])
	case hs[0].PID == 0 && os.Getenv("OMFLOW_UNDER_WINE") != "":
		procs, err := rmHolders(held)
		t.Logf("Wine's Restart Manager names no holder (RmGetList: %v, %v): %s", procs, err, hs[0])
	default:
		t.Fatalf("holder = %+v, want pid %d", hs[0], child.Process.Pid)
	}
	if err := Check(context.Background(), System(), []string{held}); err == nil {
		t.Fatal("Check passed a held file")
	}

	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Fatal(err)
	}
	if hs, err := System().Holders(context.Background(), []string{held}); err != nil || len(hs) != 0 {
		t.Fatalf("after the holder exited: %+v, %v", hs, err)
	}
	if err := os.Rename(held, held+".old"); err != nil {
		t.Fatalf("rename after the holder exited: %v", err)
	}
}

// TestRMProcessInfoLayout pins RM_PROCESS_INFO as the Windows SDK (and mingw-w64's
// restartmanager.h) lays it out: 668 bytes, strAppName at 12, ApplicationType at 652.
// Wine's stub Restart Manager returns no entries, so only this catches a wrong layout on
// Linux.
func TestRMProcessInfoLayout(t *testing.T) {
	var pi rmProcessInfo
	got := [3]uintptr{unsafe.Sizeof(pi), unsafe.Offsetof(pi.AppName), unsafe.Offsetof(pi.ApplicationType)}
	if want := [3]uintptr{668, 12, 652}; got != want {
		t.Fatalf("rmProcessInfo size, AppName, ApplicationType offsets = %v, want %v", got, want)
	}
}
