package pyenvtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pyenv"
	"omflow-upgrade/upgrade/pyenv/pyenvtest"
)

// TestStandInPython builds the stand-in python.exe into a Windows-like Python311 folder
// and drives it as the upgrade does: its version, then pyenv.Install from a folder of
// wheels (a package without a wheel fails as pip does, naming it), then the packages
// read back from its site-packages.
func TestStandInPython(t *testing.T) {
	home := filepath.Join(t.TempDir(), "Python311")
	site := filepath.Join(home, "Lib", "site-packages")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, "python311.dll"), nil, 0o644)
	exe := filepath.Join(home, "python.exe")
	if out, err := exec.Command("go", "build", "-o", exe, "./standinpython").CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in: %v\n%s", err, out)
	}
	info, err := install.DetectPython(context.Background(), home)
	if err != nil || info.Version != "3.11.0" || info.From != install.FromVersion {
		t.Fatalf("DetectPython = %+v, %v", info, err)
	}

	wheels := t.TempDir()
	pyenvtest.BuildWheel(t, wheels, pyenvtest.Wheel{Name: "python_ldap", Version: "3.4.0"})
	pyenvtest.BuildWheel(t, wheels, pyenvtest.Wheel{Name: "Django", Version: "4.2.11"})
	pyenvtest.BuildWheel(t, wheels, pyenvtest.Wheel{Name: "Django", Version: "2.2.28"})
	ctx := context.Background()
	pkgs := []pyenv.Package{{Name: "python-ldap", Version: "3.4.0"}, {Name: "Django", Version: "4.2.*"}, {Name: "omtool", Version: "1.0"}}
	res, err := pyenv.Install(ctx, exe, pkgs, pyenv.InstallOptions{FindLinks: wheels})
	if !errors.Is(err, pyenv.ErrInstallFailed) || len(res.Failed) != 1 || res.Failed[0].Name != "omtool" || !strings.Contains(res.Failed[0].Reason, "omtool==1.0") {
		t.Fatalf("Install = %+v, %v; want omtool failed as pip says", res, err)
	}
	env, err := pyenv.Open(ctx, home, pyenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := env.Lookup("django"); !ok || d.Version != "4.2.11" {
		t.Errorf("Django in the stand-in's site-packages: %+v %v", d, ok)
	}
	if _, ok := env.Lookup("python-ldap"); !ok {
		t.Errorf("python-ldap not installed: %+v", env.Dists)
	}
	// Online, it fails as pip does without network, naming the package.
	_, err = pyenv.Install(ctx, exe, []pyenv.Package{{Name: "ldap3", Version: "2.9"}}, pyenv.InstallOptions{})
	if !errors.Is(err, pyenv.ErrInstallFailed) {
		t.Fatalf("online install: %v", err)
	}
}
