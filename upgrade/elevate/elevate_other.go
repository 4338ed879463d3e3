//go:build !windows

package elevate

import (
	"os"
	"os/exec"
)

type current struct{}

func (current) IsElevated() (bool, error) { return os.Geteuid() == 0, nil }

// Relaunch is the pkexec command line that starts this program again as root with the
// same arguments on the same display, or nil when pkexec is not installed.
func Relaunch() []string {
	pk, err := exec.LookPath("pkexec")
	if err != nil {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	cmd, err := PkexecCommand(pk, exe, os.Args[1:], os.Environ())
	if err != nil {
		return nil
	}
	return cmd
}
