package elevate

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

type current struct{}

// IsElevated reads TokenElevation of the process token: true when the program runs
// with the administrator's full token (UAC accepted, or UAC off for an administrator).
func (current) IsElevated() (bool, error) {
	var elevation uint32 // TOKEN_ELEVATION
	var n uint32
	err := windows.GetTokenInformation(windows.GetCurrentProcessToken(), windows.TokenElevation,
		(*byte)(unsafe.Pointer(&elevation)), uint32(unsafe.Sizeof(elevation)), &n)
	if err != nil {
		return false, fmt.Errorf("GetTokenInformation(TokenElevation): %w", err)
	}
	return elevation != 0, nil
}

// Relaunch is nil on Windows: the program's manifest (requireAdministrator) makes
// Windows ask for elevation before it starts.
func Relaunch() []string { return nil }
