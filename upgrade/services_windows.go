package upgrade

import (
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/runlog"
	"omflow-upgrade/upgrade/svc"
)

// platformServices is the control script where one is configured; the service control
// manager otherwise (added with the Windows service support).
func platformServices(in *install.Installation, log *runlog.Log) svc.Manager {
	return &svc.Script{Argv: in.Control(), Dir: in.Root, Out: log.Writer("service: ")}
}
