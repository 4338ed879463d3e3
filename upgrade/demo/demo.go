// Package demo makes stand-in OMFLOW installations to try the upgrade on: the seed's
// Linux layout with a real control script (server/omflow_server status|start|stop) whose
// start runs a real HTTP server process on loopback that serves OMFLOW's login page and
// answers with the installed version, read from version.bin at every request.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"net"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/version"
)

// RunDirName is the demo service's own folder under the root: its program, port and pid.
// Nothing of the demo service lives under server/, so a real OMFLOW tree can be copied
// over server/ and the demo keeps working.
const RunDirName = ".omflow-demo"

// ServiceCommand is the hidden command that runs the demo service.
const ServiceCommand = "__demo-service"

// Options describe a demo installation.
type Options struct {
	Root    string
	Version version.Version
	Port    int // 0 picks a free port
	// Program is the executable that serves the demo (it must call Main first thing);
	// default: this program.
	Program string
	Logf    func(format string, args ...any)
}

// Result says where the demo is.
type Result struct {
	Root      string
	Port      int
	HealthURL string
	// Service is the Windows service's name (Windows only; on Linux the control script
	// server/omflow_server is the service).
	Service string
}

// createHook, when set (demo_windows.go), makes the demo in the platform's own layout once
// the root, port and program are known.
var createHook func(ctx context.Context, opt Options, root string, port int, prog string) (*Result, error)

// Create lays out a demo installation at opt.Root and starts its service. The root must
// not exist or be an empty folder.
func Create(ctx context.Context, opt Options) (*Result, error) {
	root, err := filepath.Abs(opt.Root)
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("demo root %q: %w", opt.Root, err))
	}
	if err := checkEmpty(root); err != nil {
		return nil, err
	}
	port := opt.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("demo: pick a free port: %w", err)
		}
	}
	prog := opt.Program
	if prog == "" {
		if prog, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("demo: find this program: %w", err)
		}
	}
	if createHook != nil {
		return createHook(ctx, opt, root, port, prog)
	}
	if err := layout(root, opt.Version, port, prog); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	in, err := install.Detect(root, install.Config{})
	if err != nil {
		return nil, err
	}
	m := &svc.Script{Argv: in.Control(), Dir: root}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.Start(sctx); err != nil {
		return nil, fmt.Errorf("demo: start the service: %w", err)
	}
	if err := svc.CheckHealth(sctx, in.HealthURL()); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return &Result{Root: root, Port: port, HealthURL: in.HealthURL()}, nil
}

func checkEmpty(root string) error {
	entries, err := os.ReadDir(root)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return outcome.Unusable(fmt.Errorf("demo root %q: %w", root, err))
	case len(entries) > 0:
		return outcome.Unusable(fmt.Errorf("demo root %q is not empty: give a new folder", root))
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Files is the demo's tree apart from the service: root-relative path to content.
func Files(v version.Version) map[string]string {
	return map[string]string{
		"server/omflow/syscom/version.bin": string(install.FormatVersionFile(v, false)),
		"server/omflow/__init__.py":        "",
		"server/omflow/settings.py":        settingsPy,
		"server/omflow/urls.py":            "# OMFLOW demo: URL configuration stand-in\nurlpatterns = []\n",
		"server/omflow/views.py":           "# OMFLOW demo " + v.String() + "\n",
		"server/db.omflow":                 "OMFLOW demo database stand-in\n",
		"logs/.keep":                       "",
	}
}

func layout(root string, v version.Version, port int, prog string) error {
	for rel, content := range Files(v) {
		if err := writeFile(filepath.Join(root, filepath.FromSlash(rel)), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(root, "server", "omflow_server"), []byte(controlScript), 0o755); err != nil {
		return err
	}
	run := filepath.Join(root, RunDirName)
	if err := writeFile(filepath.Join(run, "port"), []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return err
	}
	if err := copyFile(prog, filepath.Join(run, "omflow-demo-service")); err != nil {
		return fmt.Errorf("demo: copy the service program: %w", err)
	}
	return install.WriteConfig(root, install.Config{
		Control:   []string{"server/omflow_server"},
		HealthURL: fmt.Sprintf("http://127.0.0.1:%d/accounts/login/", port),
	})
}

func writeFile(p string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, b, mode); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	_, err := install.CopyFile(src, dst, 0o755)
	return err
}

const settingsPy = `"""
OMFLOW settings (demo installation).
"""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET_KEY = 'demo-secret-key-change-me'

DEBUG = False

ALLOWED_HOSTS = ['127.0.0.1', 'localhost']

INSTALLED_APPS = [
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'omflow',
]

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': os.path.join(BASE_DIR, 'db.omflow'),
    }
}

LANGUAGE_CODE = 'zh-hant'

LANGUAGES = [
    ('en', 'English'),
    ('zh-hant', 'Traditional Chinese'),
    ('zh-hans', 'Simplified Chinese'),
    ('ja', 'Japanese'),
]

TIME_ZONE = 'Asia/Taipei'
`

// scriptHelpers are what the control scripts share: ROOT and RUN, whether the process in
// $PIDFILE (each script sets it) runs, status, and stop (it waits $1 times 50 ms before
// it kills).
const scriptHelpers = `ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
RUN="$ROOT/` + RunDirName + `"
# A zombie (exited, not yet reaped by init) counts as stopped.
alive() { kill -0 "$1" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
running() { [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; }
status() {
	if running; then echo "OMFLOW is running (pid $(cat "$PIDFILE"))"; exit 0; fi
	echo "OMFLOW is stopped"; exit 3
}
stop() {
	if ! running; then rm -f "$PIDFILE"; echo "OMFLOW is not running"; return; fi
	pid=$(cat "$PIDFILE")
	kill "$pid" 2>/dev/null
	i=0
	while alive "$pid"; do
		i=$((i+1))
		if [ $i -gt "$1" ]; then kill -9 "$pid" 2>/dev/null; fi
		sleep 0.05
	done
	rm -f "$PIDFILE"
	echo "OMFLOW stopped"
}
`

// controlScript is server/omflow_server of the demo. status exits 0 while the service
// runs; start waits until the service listens; stop waits until it has exited.
const controlScript = `#!/bin/sh
# Control script of an OMFLOW demo installation (made by omflow-upgrade demo).
# Usage: omflow_server {status|start|stop}
` + scriptHelpers + `PIDFILE="$RUN/service.pid"
case "$1" in
status)
	status ;;
start)
	if running; then echo "OMFLOW is already running"; exit 0; fi
	mkdir -p "$ROOT/logs"
	rm -f "$RUN/service.ready"
	nohup "$RUN/omflow-demo-service" ` + ServiceCommand + ` -root "$ROOT" >>"$ROOT/logs/demo-service.log" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
	i=0
	while [ $i -lt 200 ]; do
		if [ -f "$RUN/service.ready" ]; then echo "OMFLOW started (pid $(cat "$PIDFILE"))"; exit 0; fi
		if ! running; then rm -f "$PIDFILE"; echo "OMFLOW failed to start; see $ROOT/logs/demo-service.log"; exit 1; fi
		sleep 0.05; i=$((i+1))
	done
	echo "OMFLOW did not start within 10 seconds"; exit 1 ;;
stop)
	stop 200; rm -f "$RUN/service.ready"; exit 0 ;;
*)
	echo "usage: $0 {status|start|stop}" >&2; exit 2 ;;
esac
`
