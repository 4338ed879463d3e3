package demo

import (
	"context"
	"errors"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

// ServiceLogName is the real service's output, under RunDirName (real.go).
const ServiceLogName = "service.log"

// RealOptions describe an installation of one of OMFLOW's real releases (real.go; not
// yet on Windows).
type RealOptions struct {
	Root    string
	Release string
	Python  string
	Port    int
	Version version.Version
	Logf    func(format string, args ...any)
}

// CreateReal is not there yet on Windows: OMFLOW's Windows layout serves Django through
// Apache as a Windows service, which a real release's tarball does not bring.
func CreateReal(ctx context.Context, opt RealOptions) (*Result, error) {
	return nil, outcome.Unusable(errors.New("a real OMFLOW installation (demo -real) is not supported on Windows yet; use Linux"))
}
