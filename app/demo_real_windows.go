package app

import (
	"context"
	"errors"
)

// NewRealDemo is not there yet on Windows: OMFLOW's own releases are served there by
// Apache as a Windows service, which their tarballs do not bring (upgrade/demo).
func NewRealDemo(ctx context.Context, dir, releases, installed, update string) (*Demo, error) {
	return nil, errors.New("OMFLOW's own releases run as a demo on Linux only")
}
