// Package reboot finds out whether Windows waits for a restart: files queued for
// renaming or deletion at boot, or Windows Update / component servicing asking for a
// reboot. An upgrade started then could have its new files replaced at the next boot
// by what the queue says, so it is refused until the machine has restarted.
package reboot

import (
	"errors"
	"fmt"
	"strings"

	"omflow-upgrade/upgrade/outcome"
)

// Registry is the part of HKEY_LOCAL_MACHINE the check reads. Paths are relative to
// HKLM, backslash-separated.
type Registry interface {
	// KeyExists reports whether the key is there.
	KeyExists(key string) (bool, error)
	// Strings reads a REG_MULTI_SZ (or REG_SZ) value; ErrNotExist when the key or the
	// value is not there.
	Strings(key, value string) ([]string, error)
}

// ErrNotExist is what a Registry returns for a key or value that is not there.
var ErrNotExist = errors.New("registry key or value not found")

// The places Windows records a pending reboot.
const (
	SessionManagerKey  = `SYSTEM\CurrentControlSet\Control\Session Manager`
	PendingRenames     = "PendingFileRenameOperations"
	PendingRenames2    = "PendingFileRenameOperations2"
	UpdateRebootKey    = `SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`
	ServicingRebootKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`
)

// Signal is one sign of a pending reboot.
type Signal struct {
	// Where is the registry key (and value) that says so.
	Where string
	// Files are the files queued for rename or delete at boot, for PendingRenames.
	Files []string
}

func (s Signal) String() string {
	if len(s.Files) == 0 {
		return s.Where
	}
	const show = 3
	files := s.Files
	more := ""
	if len(files) > show {
		more = fmt.Sprintf(" and %d more", len(files)-show)
		files = files[:show]
	}
	return fmt.Sprintf("%s (%s%s)", s.Where, strings.Join(files, ", "), more)
}

// Pending lists the signs of a pending reboot; none means none.
func Pending(r Registry) ([]Signal, error) {
	var out []Signal
	for _, v := range []string{PendingRenames, PendingRenames2} {
		ss, err := r.Strings(SessionManagerKey, v)
		switch {
		case errors.Is(err, ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf(`read HKLM\%s\%s: %w`, SessionManagerKey, v, err)
		}
		if files := renameSources(ss); len(files) > 0 {
			out = append(out, Signal{Where: `HKLM\` + SessionManagerKey + `\` + v, Files: files})
		}
	}
	for _, k := range []string{UpdateRebootKey, ServicingRebootKey} {
		ok, err := r.KeyExists(k)
		if err != nil {
			return nil, fmt.Errorf(`read HKLM\%s: %w`, k, err)
		}
		if ok {
			out = append(out, Signal{Where: `HKLM\` + k})
		}
	}
	return out, nil
}

// renameSources takes the files out of PendingFileRenameOperations: pairs of (source,
// target), target empty for a delete, sources in NT form (\??\C:\...). An empty value,
// or one holding only empty strings, queues nothing.
func renameSources(ss []string) []string {
	var files []string
	for i := 0; i < len(ss); i += 2 {
		if src := strings.TrimPrefix(ss[i], `\??\`); src != "" {
			files = append(files, src)
		}
	}
	return files
}

// Check refuses (reason "reboot-pending") when Windows waits for a restart, naming what
// says so.
func Check(r Registry) error {
	sigs, err := Pending(r)
	if err != nil {
		return fmt.Errorf("find out whether Windows waits for a restart: %w", err)
	}
	if len(sigs) == 0 {
		return nil
	}
	where := make([]string, len(sigs))
	for i, s := range sigs {
		where[i] = s.String()
	}
	return &outcome.RefusedError{Reason: outcome.ReasonRebootPending, Err: fmt.Errorf(
		"the computer must restart first (%s): restart it, then run the update again",
		strings.Join(where, "; "))}
}
