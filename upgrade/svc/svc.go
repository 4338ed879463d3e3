// Package svc is the boundary between the upgrade and the OMFLOW service: its state, start
// and stop (the Linux control script, the Windows service control manager) and the HTTP
// health probe of OMFLOW's login page.
package svc

import "context"

// State is what a service manager says of the service.
type State string

const (
	Running State = "running"
	Stopped State = "stopped"
)

// Manager starts, stops and reports the OMFLOW service. Implementations wait until the
// service has reached the requested state or ctx ends.
type Manager interface {
	Status(ctx context.Context) (State, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Fence keeps the service from starting by itself (at boot) while the installation is
// being changed. Disable returns what to call to put the automatic start back as it was.
type Fence interface {
	DisableAutostart(ctx context.Context) (restore func(context.Context) error, err error)
}
