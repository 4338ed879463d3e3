package demo

import (
	"context"
	"log"
	"os"
	"os/signal"
	"path/filepath"

	winsvc "golang.org/x/sys/windows/svc"

	"omflow-upgrade/upgrade/install"
)

// serviceLog is the demo service's own log, under the root's logs\ (a service has no
// console to write to).
const serviceLog = "demo-service.log"

// runWindowsService runs the demo service: under the service control manager as service
// scm when given, else as a console server until Ctrl+C.
func runWindowsService(root, scm string) error {
	versionFile := filepath.Join(root, filepath.FromSlash(install.Windows.VersionFileRel()))
	if scm == "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		return serveHTTP(ctx, root, versionFile, func() error { return nil })
	}
	f, err := os.OpenFile(filepath.Join(root, "logs", serviceLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	lg := log.New(f, scm+": ", log.LstdFlags)
	lg.Printf("starting (pid %d)", os.Getpid())
	if err := winsvc.Run(scm, &windowsService{root: root, versionFile: versionFile, log: lg}); err != nil {
		lg.Printf("svc.Run: %v", err)
		return err
	}
	lg.Printf("stopped")
	return nil
}

// windowsService is the demo's HTTP server as an SCM service.
type windowsService struct {
	root, versionFile string
	log               *log.Logger
}

// Execute reports START_PENDING until the server listens, RUNNING while it serves, and
// stops on STOP or SHUTDOWN. A server that cannot listen (port taken, port file gone)
// ends the service with service-specific exit code 1, one that fails later with 2.
func (s *windowsService) Execute(_ []string, req <-chan winsvc.ChangeRequest, status chan<- winsvc.Status) (bool, uint32) {
	status <- winsvc.Status{State: winsvc.StartPending, WaitHint: 10000}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- serveHTTP(ctx, s.root, s.versionFile, func() error { close(ready); return nil })
	}()
	select {
	case <-ready:
	case err := <-done:
		s.log.Printf("cannot serve: %v", err)
		return true, 1
	}
	s.log.Printf("serving OMFLOW's login page (version from %s)", s.versionFile)
	status <- winsvc.Status{State: winsvc.Running, Accepts: winsvc.AcceptStop | winsvc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			s.log.Printf("server ended: %v", err)
			return true, 2
		case r := <-req:
			switch r.Cmd {
			case winsvc.Interrogate:
				status <- r.CurrentStatus
			case winsvc.Stop, winsvc.Shutdown:
				s.log.Printf("stop requested (control %d)", r.Cmd)
				status <- winsvc.Status{State: winsvc.StopPending, WaitHint: 5000}
				cancel()
				if err := <-done; err != nil {
					s.log.Printf("shutdown: %v", err)
				}
				return false, 0
			}
		}
	}
}
