//go:build !windows

package reboot

// System is this machine's registry. Linux has none: nothing is ever pending. (Debian's
// /var/run/reboot-required says a new kernel or library waits for a restart; that does
// not change files under OMFLOW, so it is no reason to refuse.)
func System() Registry { return emptyRegistry{} }

type emptyRegistry struct{}

func (emptyRegistry) KeyExists(string) (bool, error)           { return false, nil }
func (emptyRegistry) Strings(string, string) ([]string, error) { return nil, ErrNotExist }
