package demo

// The demo on Windows: OMFLOW's Windows layout (SPEC 4.3) and a real service in the
// service control manager, as OMFLOW's own "OMFLOW Server" is. The service's program is
// Apache24\bin\OMFLOWServer.exe, a copy of this program, run in service mode by an
// explicit argument (ServiceCommand -root ROOT -scm NAME): svc.IsWindowsService cannot
// tell under Wine, and the same program also runs as a plain console server.
//
// Several demos on one machine must not clash, with each other nor with a real OMFLOW:
// the service is named OMFLOWServer-PORT ("OMFLOW Server (demo, port PORT)"), and a
// name already registered is refused (with -port 0, another port is picked).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	winsvc "golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/rmtree"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/version"
)

func init() {
	createHook = createWindows
	runService = runWindowsService
}

// ServiceProgramRel is the root-relative path of the service's program, as in OMFLOW.
const ServiceProgramRel = `Apache24\bin\OMFLOWServer.exe`

// ServiceName is the demo service's name for port.
func ServiceName(port int) string { return "OMFLOWServer-" + strconv.Itoa(port) }

func createWindows(ctx context.Context, opt Options, root string, port int, prog string) (*Result, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, scmError("connect to the service control manager", err)
	}
	defer m.Disconnect()
	name := ServiceName(port)
	for tries := 0; exists(m, name); tries++ {
		if opt.Port != 0 || tries == 20 {
			return nil, &outcome.RefusedError{Reason: outcome.ReasonServiceExists, Err: fmt.Errorf(
				"demo: a service %s is registered already (another demo on port %d?): give another -port, or remove that demo's service (sc stop %s, sc delete %s)",
				name, port, name, name)}
		}
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("demo: pick a free port: %w", err)
		}
		name = ServiceName(port)
	}
	if opt.Port != 0 {
		// The port must be free, or the service would start and give up at once.
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return nil, outcome.Unusable(fmt.Errorf("demo: -port %d: %w", port, err))
		}
		l.Close()
	}
	if err := windowsLayout(root, opt.Version, port, prog); err != nil {
		rmtree.RemoveAll(root)
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/accounts/login/", port)
	if err := install.WriteConfig(root, install.Config{Services: []string{name}, HealthURL: url}); err != nil {
		rmtree.RemoveAll(root)
		return nil, err
	}
	exe := filepath.Join(root, ServiceProgramRel)
	s, err := m.CreateService(name, exe, mgr.Config{
		DisplayName:  fmt.Sprintf("OMFLOW Server (demo, port %d)", port),
		Description:  "Stand-in OMFLOW Server made by omflow-upgrade demo; installation at " + root,
		StartType:    mgr.StartAutomatic,
		ErrorControl: mgr.ErrorNormal,
	}, ServiceCommand, "-root", root, "-scm", name)
	if err != nil {
		rmtree.RemoveAll(root)
		return nil, scmError("demo: register the service "+name, err)
	}
	s.Close()
	if opt.Logf != nil {
		opt.Logf("demo: service %s registered: %s", name, exe)
	}
	man, closeSCM, err := svc.OpenSCMManager(svc.SCMOptions{Names: []string{name}, Logf: opt.Logf})
	if err != nil {
		return nil, err
	}
	defer closeSCM()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = man.Start(sctx)
	if err == nil {
		err = svc.CheckHealth(sctx, url)
	}
	if err != nil {
		// A demo that does not run is no use: its service goes; its files stay, for
		// the service's log.
		if rerr := removeService(context.WithoutCancel(ctx), m, name); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, fmt.Errorf("demo: start the service %s: %w (see %s)", name, err, filepath.Join(root, "logs", serviceLog))
	}
	return &Result{Root: root, Port: port, HealthURL: url, Service: name}, nil
}

func exists(m *mgr.Mgr, name string) bool {
	s, err := m.OpenService(name)
	if err != nil {
		return false
	}
	s.Close()
	return true
}

func scmError(what string, err error) error {
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return &outcome.RefusedError{Reason: outcome.ReasonNotElevated, Err: fmt.Errorf("%s: %w: run as administrator", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// windowsFiles is the demo's tree in OMFLOW's Windows layout, apart from the service
// program: the Django project under omflow\ (the Linux demo's server\ files), Apache's
// httpd.conf pointing at the Python folder, a Python folder stand-in (no interpreter:
// nothing may mistake it for a real one) and logs\.
func windowsFiles(root string, v version.Version) map[string]string {
	out := map[string]string{}
	for rel, content := range Files(v) {
		if strings.HasPrefix(rel, "server/") {
			rel = "omflow/" + strings.TrimPrefix(rel, "server/")
		}
		out[rel] = content
	}
	out["omflow/omflow/syscom/version.bin"] = string(install.FormatVersionFile(v, true))
	py := filepath.Join(root, "Python")
	out["Apache24/conf/httpd.conf"] = strings.ReplaceAll(strings.Join([]string{
		"# Apache configuration of an OMFLOW demo installation (stand-in; no Apache runs).",
		`ServerRoot "` + filepath.Join(root, "Apache24") + `"`,
		"Listen 80",
		`LoadFile "` + filepath.Join(py, "python37.dll") + `"`,
		`LoadModule wsgi_module "` + filepath.Join(py, `lib\site-packages\mod_wsgi\server\mod_wsgi.cp37-win32.pyd`) + `"`,
		`WSGIPythonHome "` + py + `"`,
		`WSGIScriptAlias / "` + filepath.Join(root, `omflow\omflow\wsgi.py`) + `"`,
		"",
	}, "\n"), "\n", "\r\n")
	out["Python/Lib/site-packages/README.txt"] = "Stand-in for OMFLOW's Python 3.7 (32-bit) folder; the demo has no interpreter.\r\n"
	return out
}

func windowsLayout(root string, v version.Version, port int, prog string) error {
	for rel, content := range windowsFiles(root, v) {
		if err := writeFile(filepath.Join(root, filepath.FromSlash(rel)), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(root, RunDirName, "port"), []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return err
	}
	if err := copyFile(prog, filepath.Join(root, ServiceProgramRel)); err != nil {
		return fmt.Errorf("demo: copy the service program: %w", err)
	}
	return nil
}

// RemoveService stops and unregisters the services of the demo at root (those its
// omflow-upgrade.json names); the files stay. Tests and administrators use it to clean up.
func RemoveService(ctx context.Context, root string) error {
	cfg, err := install.ReadConfig(root)
	if err != nil {
		return err
	}
	if len(cfg.Services) == 0 {
		return fmt.Errorf("%s names no service", filepath.Join(root, install.ConfigName))
	}
	m, err := mgr.Connect()
	if err != nil {
		return scmError("connect to the service control manager", err)
	}
	defer m.Disconnect()
	var errs []error
	for _, name := range cfg.Services {
		errs = append(errs, removeService(ctx, m, name))
	}
	return errors.Join(errs...)
}

func removeService(ctx context.Context, m *mgr.Mgr, name string) error {
	s, err := m.OpenService(name)
	if err != nil {
		return fmt.Errorf("open service %s: %w", name, err)
	}
	defer s.Close()
	if st, err := s.Query(); err == nil && st.State != winsvc.Stopped {
		s.Control(winsvc.Stop)
		for {
			st, err := s.Query()
			if err != nil || st.State == winsvc.Stopped {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("stop service %s: %w", name, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("remove service %s: %w", name, err)
	}
	return nil
}
