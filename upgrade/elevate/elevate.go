// Package elevate tells whether the program has the rights an upgrade needs
// (administrator on Windows, root on Linux) and, on Linux, how to get them: the pkexec
// command line that starts the program again as root on the same display.
package elevate

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"omflow-upgrade/upgrade/outcome"
)

// Elevation says whether this process runs with full rights.
type Elevation interface {
	IsElevated() (bool, error)
}

// Current is this process: the token's elevation on Windows, euid 0 elsewhere.
func Current() Elevation { return current{} }

// ErrNotElevated is the cause of every not-elevated refusal.
var ErrNotElevated = errors.New("the upgrade needs administrator rights")

// NotElevatedError says what to do to get the rights. Relaunch, on Linux, is the command
// line that starts the program again as root (empty when pkexec is not there or on
// Windows, where the program's manifest asks for elevation).
type NotElevatedError struct {
	Hint     string
	Relaunch []string
}

func (e *NotElevatedError) Error() string { return ErrNotElevated.Error() + ": " + e.Hint }
func (e *NotElevatedError) Unwrap() error { return ErrNotElevated }

// Require returns nil when e is elevated, and otherwise the refusal (reason
// "not-elevated") carrying a *NotElevatedError. relaunch may be nil.
func Require(e Elevation, goos string, relaunch []string) error {
	ok, err := e.IsElevated()
	if err != nil {
		return fmt.Errorf("find out whether this program runs with administrator rights: %w", err)
	}
	if ok {
		return nil
	}
	ne := &NotElevatedError{Relaunch: relaunch}
	switch {
	case goos == "windows":
		ne.Hint = "run the update program as administrator (right-click it, \"Run as administrator\", and accept the UAC prompt)"
	case len(relaunch) > 0:
		ne.Hint = "run it as root: with sudo in a terminal, or start it again through pkexec: " + quoteCommand(relaunch)
	default:
		ne.Hint = "run it as root (sudo " + filepath.Base(os.Args[0]) + " ...)"
	}
	return &outcome.RefusedError{Reason: outcome.ReasonNotElevated, Err: ne}
}

// displayVars are what a GUI needs to reach the user's display after pkexec, which
// starts the program with a clean environment, and the locale the wizard preselects.
var displayVars = []string{
	"DISPLAY", "XAUTHORITY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR",
	"LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES",
}

// EnvFlag is the flag that carries one of displayVars (NAME=value) to the program started
// again through pkexec, which gives it a clean environment.
const EnvFlag = "env"

// PkexecCommand is the command line that starts exe with args again as root through
// pkexec, on the same display: pkexec exe -env DISPLAY=... -env XAUTHORITY=... args....
// The program itself follows pkexec (not env): polkit's prompt names it, and a path
// holding "=" stays a path. The environment goes as flags the program reads (ApplyEnv).
// environ is the current environment (os.Environ()). When XAUTHORITY is not set, X
// clients read $HOME/.Xauthority, and HOME becomes root's under pkexec: the user's file is
// named explicitly. exe must be an absolute path (pkexec refuses a relative one).
func PkexecCommand(pkexec, exe string, args, environ []string) ([]string, error) {
	// A Linux command line, whatever the host: slash paths.
	if !path.IsAbs(exe) {
		return nil, fmt.Errorf("program path %q is not absolute", exe)
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if env["DISPLAY"] != "" && env["XAUTHORITY"] == "" && env["HOME"] != "" {
		env["XAUTHORITY"] = path.Join(env["HOME"], ".Xauthority")
	}
	cmd := []string{pkexec, exe}
	for _, k := range displayVars {
		if v := env[k]; v != "" {
			cmd = append(cmd, "-"+EnvFlag, k+"="+v)
		}
	}
	return append(cmd, args...), nil
}

// ApplyEnv sets the variables PkexecCommand carried as flags. Only the display's and the
// locale's are accepted: the flag cannot set PATH, LD_PRELOAD or PYTHONPATH for root.
func ApplyEnv(kvs []string) error {
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !slices.Contains(displayVars, k) {
			return fmt.Errorf("-%s %q: want NAME=value with NAME one of %s", EnvFlag, kv, strings.Join(displayVars, ", "))
		}
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// quoteCommand renders a command line for a person to copy into a shell.
func quoteCommand(cmd []string) string {
	out := make([]string, len(cmd))
	for i, a := range cmd {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r == '/' || r == '-' || r == '_' || r == '.' || r == '=' || r == ':' || r == ',' ||
				(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
