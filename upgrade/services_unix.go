//go:build !windows

package upgrade

import (
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/runlog"
	"omflow-upgrade/upgrade/svc"
)

// platformServices is the control script on Linux.
func platformServices(in *install.Installation, log *runlog.Log) svc.Manager {
	return &svc.Script{Argv: in.Control(), Dir: in.Root, Out: log.Writer("service: ")}
}
