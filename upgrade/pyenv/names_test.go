package pyenv

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakePython is a "python" that records its arguments, one a line, in the file it
// returns (absent when it never ran).
func fakePython(t *testing.T) (python, argv string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Fatal("fakePython is a shell script")
	}
	dir := t.TempDir()
	python, argv = filepath.Join(dir, "python"), filepath.Join(dir, "argv")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> " + argv + "; done\n"
	if err := os.WriteFile(python, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return python, argv
}

// Whoever could install a package into the old environment wrote its METADATA: a name
// pip would read as an option (another index: code from anywhere, as root), or a
// version carrying a requirements-file option. Install refuses before any command, naming
// them; nothing is run.
func TestInstallRefusesNamesThatAreNotNames(t *testing.T) {
	ctx := context.Background()
	site := filepath.Join(t.TempDir(), "lib", "python3.8", "site-packages")
	for _, p := range [][2]string{
		{"good-pkg", "1.0"},
		{"--index-url=http://127.0.0.1:9/simple", "1.0"},
		{"-rfoo", "1"},
		{"%COMSPEC%", "1.0"},
		{"a&calc", "1.0"},
		{"evil", "1.0 --global-option=--x"},
	} {
		writeDistInfo(t, site, p[0], p[1])
	}
	old, err := Open(ctx, site, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pkgs := Missing(old, &Env{})
	python, argv := fakePython(t)
	reqFile := filepath.Join(t.TempDir(), "requirements.txt")
	_, err = Install(ctx, python, pkgs, InstallOptions{Requirements: reqFile})
	if err == nil {
		t.Fatal("Install ran with names that are not Python project names")
	}
	for _, want := range []string{"--index-url=http://127.0.0.1:9/simple", "-rfoo", "%COMSPEC%", "a&calc", "1.0 --global-option=--x", "PEP 508"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), `"good-pkg"`) {
		t.Errorf("the error names a valid package: %v", err)
	}
	if _, err := os.Stat(argv); !os.IsNotExist(err) {
		t.Fatalf("python ran: %v", err)
	}
	if _, err := os.Stat(reqFile); !os.IsNotExist(err) {
		t.Fatalf("a requirements file was written: %v", err)
	}
}

func TestCheckPackagesNameRule(t *testing.T) {
	tests := []struct {
		name, version string
		ok            bool
	}{
		{"django", "4.2", true},
		{"zope.interface", "5.5.2", true},
		{"Beta_Pkg", "2.1", true},
		{"a", "", true},
		{"pkg", "2!1.0.post1+ubuntu.1", true},
		{"A1-b.c_d", "1.0rc1", true},
		{"Django", "4.2.*", true}, // a series, pinned as Django==4.2.*
		{"Django", "4.2.* --pre", false},
		{"Django", ".*", false},
		{"", "1", false},
		{"-pkg", "1", false},
		{"pkg-", "1", false},
		{".pkg", "1", false},
		{"--index-url", "1", false},
		{"pkg name", "1", false},
		{"pkg;rm", "1", false},
		{"pkg%PATH%", "1", false},
		{"pkg^x", "1", false},
		{"pkg==1", "", true}, // the release's own list: requirements as written
		{"django>=4.2,<5", "", true},
		{"django==4.*", "", true},
		{"pkg==1", "2", false},
		{"pkg==1 --hash=sha256:0", "", false},
		{"pkg==1;x", "", false},
		{" pkg==1", "", false},
		{"pkg @ http://x", "", false},
		{"pkg[extra]", "1", false},
		{"é", "1", false},
		{"pkg", "1 --hash=sha256:0", false},
		{"pkg", "-1", false},
		{"pkg", "1;x", false},
	}
	for _, tt := range tests {
		err := CheckPackages([]Package{{tt.name, tt.version}})
		if (err == nil) != tt.ok {
			t.Errorf("CheckPackages(%q %q) = %v, want ok %v", tt.name, tt.version, err, tt.ok)
		}
	}
}

// pip's own option parser stops at "--": a name after it is never an option.
func TestPipGetsDoubleDashBeforeNames(t *testing.T) {
	python, argv := fakePython(t)
	if _, err := runPip(context.Background(), python, "", []string{"a==1", "b"}, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.HasSuffix(got, "install\n--disable-pip-version-check\n--no-input\n--\na==1\nb\n") {
		t.Fatalf("pip ran with\n%s\nwant -- before the names", got)
	}
}
