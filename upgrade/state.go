package upgrade

import "omflow-upgrade/upgrade/install"

// fillState adds the transaction state (interrupted run, backups, lock) to a status
// report.
func fillState(in *install.Installation, r *StatusReport) error {
	return nil
}
