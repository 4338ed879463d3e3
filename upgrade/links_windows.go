package upgrade

// notPlantedLink: making a symbolic link on Windows takes a privilege the service
// account does not have.
func notPlantedLink(string) error { return nil }
