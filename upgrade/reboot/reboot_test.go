package reboot

import (
	"errors"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

// fakeRegistry holds keys and multi-string values; a key listed in broken fails to read.
type fakeRegistry struct {
	keys   map[string]bool
	values map[string][]string // "key\x00value"
	broken string
}

func (f fakeRegistry) KeyExists(key string) (bool, error) {
	if key == f.broken {
		return false, errors.New("access denied")
	}
	return f.keys[key], nil
}

func (f fakeRegistry) Strings(key, value string) ([]string, error) {
	if key == f.broken {
		return nil, errors.New("access denied")
	}
	v, ok := f.values[key+"\x00"+value]
	if !ok {
		return nil, ErrNotExist
	}
	return v, nil
}

func renames(ss ...string) map[string][]string {
	return map[string][]string{SessionManagerKey + "\x00" + PendingRenames: ss}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		reg  fakeRegistry
		exit int
		msg  []string
	}{
		{"nothing pending", fakeRegistry{}, outcome.ExitOK, nil},
		{"empty rename list", fakeRegistry{values: renames()}, outcome.ExitOK, nil},
		{"rename list of empty strings", fakeRegistry{values: renames("", "")}, outcome.ExitOK, nil},
		{"a file queued for delete", fakeRegistry{values: renames(`\??\C:\Program Files\OMFLOW Server\Apache24\bin\libapr.dll`, "")},
			outcome.ExitRefused, []string{"PendingFileRenameOperations", `C:\Program Files\OMFLOW Server\Apache24\bin\libapr.dll`, "restart it, then run the update again"}},
		{"many files queued", fakeRegistry{values: renames(`\??\C:\a`, `!\??\C:\b`, `\??\C:\c`, "", `\??\C:\d`, "", `\??\C:\e`, "")},
			outcome.ExitRefused, []string{`C:\a, C:\c, C:\d and 1 more`}},
		{"the second rename list", fakeRegistry{values: map[string][]string{SessionManagerKey + "\x00" + PendingRenames2: {`\??\C:\x`, ""}}},
			outcome.ExitRefused, []string{"PendingFileRenameOperations2"}},
		{"Windows Update", fakeRegistry{keys: map[string]bool{UpdateRebootKey: true}},
			outcome.ExitRefused, []string{`Auto Update\RebootRequired`}},
		{"component servicing", fakeRegistry{keys: map[string]bool{ServicingRebootKey: true}},
			outcome.ExitRefused, []string{`Component Based Servicing\RebootPending`}},
		{"unreadable key", fakeRegistry{broken: ServicingRebootKey}, outcome.ExitInternal, []string{"access denied", "RebootPending"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.reg)
			if got := outcome.ExitCode(err); got != tc.exit {
				t.Fatalf("Check = %v (exit %d), want exit %d", err, got, tc.exit)
			}
			var refused *outcome.RefusedError
			if tc.exit == outcome.ExitRefused && (!errors.As(err, &refused) || refused.Reason != "reboot-pending") {
				t.Fatalf("err = %#v, want reason reboot-pending", err)
			}
			for _, s := range tc.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %q, want it to mention %q", err, s)
				}
			}
		})
	}
}
