//go:build windows

package reboot

// Writes the pending-reboot markers into the registry and reads them back through
// System(). Only under Wine (scripts/wine-exec.sh sets OMFLOW_UNDER_WINE): on a real
// machine a test that died between write and cleanup would leave Windows a rename to do
// at the next boot.
//
// Wine difference: none met in reading; Wine keeps HKLM in the prefix's system.reg and
// wineboot would carry out PendingFileRenameOperations at the prefix's next start, so the
// test queues only the delete of a file that does not exist.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows/registry"

	"omflow-upgrade/upgrade/outcome"
)

func TestRegistryUnderWine(t *testing.T) {
	if os.Getenv("OMFLOW_UNDER_WINE") == "" {
		t.Skip("writes HKLM pending-reboot markers: only in the Wine test prefix")
	}
	if err := Check(System()); err != nil {
		t.Fatalf("a fresh Wine prefix has a reboot pending? %v", err)
	}

	sm, err := registry.OpenKey(registry.LOCAL_MACHINE, SessionManagerKey, registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	// Not t.TempDir: under Wine its cleanup fails (Go's os.RemoveAll meets "Invalid
	// function" from Wine 8 even for an empty folder); the file need not exist anyway.
	gone := filepath.Join(os.TempDir(), "omflow-upgrade-test-no-such-file.dll")
	if err := sm.SetStringsValue(PendingRenames, []string{`\??\` + gone, ""}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		k, err := registry.OpenKey(registry.LOCAL_MACHINE, SessionManagerKey, registry.SET_VALUE)
		if err != nil {
			t.Errorf("open %s: %v", SessionManagerKey, err)
			return
		}
		defer k.Close()
		if err := k.DeleteValue(PendingRenames); err != nil && !errors.Is(err, registry.ErrNotExist) {
			t.Errorf("delete %s: %v", PendingRenames, err)
		}
	})
	err = Check(System())
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "reboot-pending" || !strings.Contains(err.Error(), gone) {
		t.Fatalf("with a rename queued: %v; want a reboot-pending refusal naming %s", err, gone)
	}
	if err := sm.DeleteValue(PendingRenames); err != nil {
		t.Fatal(err)
	}

	k, existed, err := registry.CreateKey(registry.LOCAL_MACHINE, UpdateRebootKey, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	if existed {
		t.Fatalf("HKLM\\%s was already there", UpdateRebootKey)
	}
	t.Cleanup(func() {
		if err := registry.DeleteKey(registry.LOCAL_MACHINE, UpdateRebootKey); err != nil {
			t.Errorf("delete %s: %v", UpdateRebootKey, err)
		}
	})
	err = Check(System())
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "RebootRequired") {
		t.Fatalf("with RebootRequired: %v", err)
	}
}
