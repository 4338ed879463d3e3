package demo

import (
	"context"
	"errors"
)

// NewRealKit is not there yet on Windows: OMFLOW's own releases are served there by
// Apache as a Windows service, which their tarballs do not bring (upgrade/demo).
func NewRealKit(ctx context.Context, dir, releases, installed, update string) (*Kit, error) {
	return nil, errors.New("OMFLOW's own releases run as a demo on Linux only")
}
