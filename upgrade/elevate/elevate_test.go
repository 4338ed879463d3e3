package elevate

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

type fakeElevation struct {
	ok  bool
	err error
}

func (f fakeElevation) IsElevated() (bool, error) { return f.ok, f.err }

func TestPkexecCommand(t *testing.T) {
	tests := []struct {
		name    string
		exe     string
		args    []string
		environ []string
		want    []string
		wantErr bool
	}{
		{"X11 with XAUTHORITY",
			"/opt/w/omflow-upgrade-wizard", []string{"-root", "/opt/omflow"},
			[]string{"DISPLAY=:0", "XAUTHORITY=/run/user/1000/gdm/Xauthority", "HOME=/home/ann", "PATH=/usr/bin", "LANG=ja_JP.UTF-8"},
			[]string{"/usr/bin/pkexec", "/opt/w/omflow-upgrade-wizard", "-env", "DISPLAY=:0", "-env", "XAUTHORITY=/run/user/1000/gdm/Xauthority",
				"-env", "LANG=ja_JP.UTF-8", "-root", "/opt/omflow"}, false},
		{"X11 without XAUTHORITY: the user's ~/.Xauthority",
			"/opt/w/wiz", nil,
			[]string{"DISPLAY=:1", "HOME=/home/ann"},
			[]string{"/usr/bin/pkexec", "/opt/w/wiz", "-env", "DISPLAY=:1", "-env", "XAUTHORITY=/home/ann/.Xauthority"}, false},
		{"Wayland",
			"/opt/w/wiz", []string{"a b"},
			[]string{"WAYLAND_DISPLAY=wayland-0", "XDG_RUNTIME_DIR=/run/user/1000", "HOME=/home/ann"},
			[]string{"/usr/bin/pkexec", "/opt/w/wiz", "-env", "WAYLAND_DISPLAY=wayland-0", "-env", "XDG_RUNTIME_DIR=/run/user/1000", "a b"}, false},
		{"no display", "/opt/w/cli", []string{"apply"}, []string{"HOME=/root"},
			[]string{"/usr/bin/pkexec", "/opt/w/cli", "apply"}, false},
		// With env in between, env took A=B as a variable and ran the next argument as root.
		{"a program path holding =", "/opt/A=B/wiz", []string{"-root", "/opt/omflow"}, []string{"DISPLAY=:0"},
			[]string{"/usr/bin/pkexec", "/opt/A=B/wiz", "-env", "DISPLAY=:0", "-root", "/opt/omflow"}, false},
		{"relative program", "wiz", nil, nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PkexecCommand("/usr/bin/pkexec", tc.exe, tc.args, tc.environ)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("command = %q\nwant      %q", got, tc.want)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	relaunch := []string{"/usr/bin/pkexec", "/opt/w/wiz", "-env", "DISPLAY=:0", "it's"}
	tests := []struct {
		name     string
		e        Elevation
		goos     string
		relaunch []string
		exit     int
		hint     string
	}{
		{"elevated", fakeElevation{ok: true}, "linux", relaunch, outcome.ExitOK, ""},
		{"linux with pkexec", fakeElevation{}, "linux", relaunch, outcome.ExitRefused, `pkexec /opt/w/wiz -env DISPLAY=:0 'it'\''s'`},
		{"linux without pkexec", fakeElevation{}, "linux", nil, outcome.ExitRefused, "sudo"},
		{"windows", fakeElevation{}, "windows", nil, outcome.ExitRefused, "Run as administrator"},
		{"cannot tell", fakeElevation{err: errors.New("token closed")}, "windows", nil, outcome.ExitInternal, "token closed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Require(tc.e, tc.goos, tc.relaunch)
			if got := outcome.ExitCode(err); got != tc.exit {
				t.Fatalf("exit code %d for %v, want %d", got, err, tc.exit)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("err = %q, want it to say %q", err, tc.hint)
			}
			if tc.exit != outcome.ExitRefused {
				return
			}
			var refused *outcome.RefusedError
			var ne *NotElevatedError
			if !errors.As(err, &refused) || refused.Reason != "not-elevated" || !errors.As(err, &ne) || !errors.Is(err, ErrNotElevated) {
				t.Fatalf("err = %#v, want a not-elevated refusal with a NotElevatedError", err)
			}
			if !slices.Equal(ne.Relaunch, tc.relaunch) {
				t.Errorf("Relaunch = %q, want %q", ne.Relaunch, tc.relaunch)
			}
		})
	}
}

func TestCurrent(t *testing.T) {
	ok, err := Current().IsElevated()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case runtime.GOOS != "windows":
		if want := os.Geteuid() == 0; ok != want {
			t.Fatalf("IsElevated = %v with euid %d", ok, os.Geteuid())
		}
	case os.Getenv("OMFLOW_UNDER_WINE") != "":
		// Wine runs every program with an elevated administrator token.
		if !ok {
			t.Fatal("IsElevated = false under Wine")
		}
	}
}

func TestApplyEnvTakesTheDisplayOnly(t *testing.T) {
	t.Setenv("DISPLAY", "")
	if err := ApplyEnv([]string{"DISPLAY=:7"}); err != nil || os.Getenv("DISPLAY") != ":7" {
		t.Fatalf("DISPLAY: %v %q", err, os.Getenv("DISPLAY"))
	}
	for _, kv := range []string{"LD_PRELOAD=/tmp/evil.so", "PATH=/tmp", "PYTHONPATH=/tmp", "DISPLAY"} {
		if err := ApplyEnv([]string{kv}); err == nil {
			t.Errorf("%q was accepted", kv)
		}
	}
}
