package install

import (
	"context"
	"os"
	"testing"

	"golang.org/x/sys/windows/registry"

	"omflow-upgrade/upgrade/rmtree"
)

// TestWindowsPythonFromTheRegistry: a Python folder with neither pyvenv.cfg, a python.exe
// nor its DLL is found by its PEP 514 registration (here under HKCU, a tag of the test's
// own): the version and the bitness come from there.
func TestWindowsPythonFromTheRegistry(t *testing.T) {
	dir, err := os.MkdirTemp("", "omflow-python-reg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rmtree.RemoveAll(dir) })
	const tag = `SOFTWARE\Python\PythonCore\3.7-32-omflow-test`
	k, _, err := registry.CreateKey(registry.CURRENT_USER, tag, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	k.SetStringValue("Version", "3.7.9")
	k.SetStringValue("SysArchitecture", "32bit")
	k.Close()
	ip, _, err := registry.CreateKey(registry.CURRENT_USER, tag+`\InstallPath`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	ip.SetStringValue("", dir+`\`)
	ip.Close()
	t.Cleanup(func() {
		registry.DeleteKey(registry.CURRENT_USER, tag+`\InstallPath`)
		registry.DeleteKey(registry.CURRENT_USER, tag)
	})
	got, err := DetectPython(context.Background(), dir)
	if err != nil || got.Version != "3.7.9" || got.From != FromRegistry || got.Bits != 32 {
		t.Fatalf("DetectPython = %+v, %v; want 3.7.9, 32-bit, from the registry", got, err)
	}
	// Not registered: the error says what was tried.
	other, _ := os.MkdirTemp("", "omflow-python-none-")
	t.Cleanup(func() { rmtree.RemoveAll(other) })
	if _, err := DetectPython(context.Background(), other); err == nil {
		t.Fatal("an unregistered empty folder has a version")
	}
}
