package bundle

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// selfEnv makes the test binary report the package it carries (FindSelf) and exit.
const selfEnv = "OMFLOW_BUNDLE_TEST_SELF"

func init() {
	if dir := os.Getenv(selfEnv); dir != "" {
		e, err := FindSelf()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		p, err := e.Extract(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(p)
		os.Exit(0)
	}
}

// TestWindowsFindSelfInARunningProgram bundles a copy of this test program (a real PE) with a
// package and runs it: the running program finds and extracts its own package, on
// Windows or under Wine, where os.Executable is a Windows path.
func TestWindowsFindSelfInARunningProgram(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: it cannot clean up under Wine (os.RemoveAll fails on folders).
	dir, err := os.MkdirTemp("", "omflow-bundle-test-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	pkgPath := write(t, filepath.Join(dir, "omflow_update_1_2_0_0.zip"), pkgBytes)
	exe := filepath.Join(dir, "omflow_update_1_2_0_0.exe")
	defer func() {
		for _, p := range []string{filepath.Join(out, "omflow_update_1_2_0_0.zip"), out, pkgPath, exe, dir} {
			os.Remove(p)
		}
	}()
	if err := Append(self, pkgPath, exe); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(exe)
	c.Env = append(os.Environ(), selfEnv+"="+out)
	got, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("the bundled program: %v\n%s", err, got)
	}
	p := strings.TrimSpace(string(got))
	if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, pkgBytes) || filepath.Dir(p) != out {
		t.Fatalf("the bundled program extracted %q: %v", p, err)
	}
}
