package demo

import (
	"context"
	"flag"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"omflow-upgrade/upgrade/install"
)

// Main runs the demo service when the program was started as one (its first argument is
// ServiceCommand) and reports whether it did; programs call it first thing in main, and
// exit when it returns true.
func Main(args []string) bool {
	if len(args) < 2 || args[1] != ServiceCommand {
		return false
	}
	fs := flag.NewFlagSet(ServiceCommand, flag.ContinueOnError)
	root := fs.String("root", "", "demo installation root")
	scm := fs.String("scm", "", "run under the Windows service control manager as this service (Windows)")
	if err := fs.Parse(args[2:]); err != nil {
		os.Exit(2)
	}
	if err := runService(*root, *scm); err != nil {
		fmt.Fprintln(os.Stderr, "demo service:", err)
		os.Exit(1)
	}
	return true
}

// runService runs the demo service of the installation at root; scm names the Windows
// service it runs as, when the service control manager started it (service_windows.go).
var runService = func(root, scm string) error {
	if scm != "" {
		return fmt.Errorf("-scm %s: a Windows service runs only on Windows", scm)
	}
	return serve(root)
}

// serve runs the Linux demo service until SIGTERM; the control script waits for its
// service.ready file.
func serve(root string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	run := filepath.Join(root, RunDirName)
	return serveHTTP(ctx, root, filepath.Join(root, "server", "omflow", "syscom", "version.bin"), func() error {
		return os.WriteFile(filepath.Join(run, "service.ready"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	})
}

// serveHTTP serves OMFLOW's login page on the demo's loopback port with the version read
// from versionFile at every request, calls ready once it listens, and returns when ctx
// ends (nil) or the server fails.
func serveHTTP(ctx context.Context, root, versionFile string, ready func() error) error {
	run := filepath.Join(root, RunDirName)
	b, err := os.ReadFile(filepath.Join(run, "port"))
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("port file: %w", err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/accounts/login/", func(w http.ResponseWriter, r *http.Request) {
		v, err := install.ReadVersionFile(versionFile)
		if err != nil {
			http.Error(w, "OMFLOW cannot read its version: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-OMFLOW-Version", v.String())
		fmt.Fprintf(w, "<!doctype html><title>OMFLOW</title><h1>OMFLOW %s</h1><p>Login (demo installation)</p>\n", html.EscapeString(v.String()))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/accounts/login/", http.StatusFound)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := ready(); err != nil {
		l.Close()
		return err
	}
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}
