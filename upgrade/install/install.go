// Package install finds an OMFLOW installation on disk: its layout (Linux or Windows), the
// version it records in version.bin, and the settings of omflow-upgrade.json that say
// where its service and health check are.
package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

// ConfigName is the optional settings file at the installation's root.
const ConfigName = "omflow-upgrade.json"

// StateDirName is the folder under the root where the upgrade keeps its journal, lock,
// staging area, backups and the record of applied updates.
const StateDirName = ".omflow-upgrade"

// DefaultHealthURL is OMFLOW's login page behind Apache on port 80 (OMFLOW has no health
// endpoint; the login page answering 200 is its sign of life).
const DefaultHealthURL = "http://127.0.0.1/accounts/login/"

// Config is what omflow-upgrade.json may say; flags override it field by field.
type Config struct {
	// Control is the control command (argv; a relative program resolves against the
	// root), called with status, start or stop. Linux default: server/omflow_server.
	Control []string `json:"control,omitempty"`
	// Services are Windows service names, in start order. Default: the services whose
	// program lives under the root.
	Services []string `json:"services,omitempty"`
	// HealthURL is fetched after the start; 200 means healthy.
	HealthURL string `json:"health_url,omitempty"`
	// Python is the interpreter that runs manage.py.
	Python string `json:"python,omitempty"`
	// ApacheConf is Apache's OMFLOW configuration (django.conf or httpd.conf).
	ApacheConf string `json:"apache_conf,omitempty"`
	// KeepBackups is how many backups of applied updates are kept (default 3).
	KeepBackups int `json:"keep_backups,omitempty"`
	// StartTimeout bounds a service start or stop, in seconds (default 60).
	StartTimeout int `json:"start_timeout,omitempty"`
}

// Merge returns c with every field that o sets replaced by o's.
func (c Config) Merge(o Config) Config {
	if len(o.Control) > 0 {
		c.Control = o.Control
	}
	if len(o.Services) > 0 {
		c.Services = o.Services
	}
	if o.HealthURL != "" {
		c.HealthURL = o.HealthURL
	}
	if o.Python != "" {
		c.Python = o.Python
	}
	if o.ApacheConf != "" {
		c.ApacheConf = o.ApacheConf
	}
	if o.KeepBackups > 0 {
		c.KeepBackups = o.KeepBackups
	}
	if o.StartTimeout > 0 {
		c.StartTimeout = o.StartTimeout
	}
	return c
}

// Layout names the platform layout of an installation.
type Layout string

const (
	Linux   Layout = "linux"   // /opt/omflow: server/, python/
	Windows Layout = "windows" // C:\Program Files\OMFLOW Server: omflow\, Python\, Apache24\
)

// Installation is an OMFLOW installation found on disk.
type Installation struct {
	Root    string
	Layout  Layout
	Version version.Version
	Config  Config
}

// DefaultRoot is where OMFLOW installs itself on this platform.
func DefaultRoot() string { return defaultRoot }

// projectDir is the Django project's folder, relative to the root.
func (l Layout) projectDir() string {
	if l == Windows {
		return "omflow"
	}
	return "server"
}

// VersionFileRel is the root-relative, slash-separated path of version.bin.
func (l Layout) VersionFileRel() string { return l.projectDir() + "/omflow/syscom/version.bin" }

// ProjectDir is the Django project folder (where manage.py is).
func (in *Installation) ProjectDir() string {
	return filepath.Join(in.Root, filepath.FromSlash(in.Layout.projectDir()))
}

// VersionFile is the path of version.bin.
func (in *Installation) VersionFile() string {
	return filepath.Join(in.Root, filepath.FromSlash(in.Layout.VersionFileRel()))
}

// StateDir is the upgrade's own folder under the root.
func (in *Installation) StateDir() string { return filepath.Join(in.Root, StateDirName) }

// LogsDir is the installation's logs/ folder.
func (in *Installation) LogsDir() string { return filepath.Join(in.Root, "logs") }

// PythonDir is the installation's Python (the venv on Linux). On Windows it is the
// folder Apache's httpd.conf loads (WSGIPythonHome): Python\ before OMFLOW 1.2.0.0,
// Python311\ once an update has pointed Apache at it; Python\ when httpd.conf names none.
func (in *Installation) PythonDir() string {
	if in.Layout == Windows {
		if dir := in.apachePythonHome(); dir != "" {
			return dir
		}
		return filepath.Join(in.Root, "Python")
	}
	return filepath.Join(in.Root, "python")
}

// HTTPDConf is Apache's configuration of a Windows installation.
func (in *Installation) HTTPDConf() string {
	return filepath.Join(in.Root, "Apache24", "conf", "httpd.conf")
}

// apachePythonHome is the Python folder under the root that httpd.conf's WSGIPythonHome
// names, or "". Only the folder's name is taken from the line: httpd.conf writes the
// root as Apache sees it (C:/PROGRA~1/OMFLOW Server/Python311, 8.3 names, forward
// slashes), and the folder is looked for under the root as found.
func (in *Installation) apachePythonHome() string {
	home := WSGIPythonHome(in.HTTPDConf())
	if home == "" {
		return ""
	}
	base := home[strings.LastIndexAny(home, `/\`)+1:]
	if !pythonFolder.MatchString(base) {
		return ""
	}
	dir := filepath.Join(in.Root, base)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}

// WSGIPythonHome is the folder the WSGIPythonHome directive of the Apache configuration
// at path names, without quotes and trailing separators; "" when there is none.
func WSGIPythonHome(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return wsgiPythonHome(b)
}

// Python is the interpreter that runs manage.py: the configured one, or the
// installation's own.
func (in *Installation) Python() string {
	if in.Config.Python != "" {
		return in.resolve(in.Config.Python)
	}
	if in.Layout == Windows {
		return filepath.Join(in.PythonDir(), "python.exe")
	}
	return filepath.Join(in.PythonDir(), "bin", "python3")
}

// Control is the control command's argv (Linux), with the program resolved against the
// root.
func (in *Installation) Control() []string {
	argv := in.Config.Control
	if len(argv) == 0 {
		argv = []string{"server/omflow_server"}
	}
	out := append([]string(nil), argv...)
	out[0] = in.resolve(out[0])
	return out
}

// HealthURL is the page that must answer 200 after a start.
func (in *Installation) HealthURL() string {
	if in.Config.HealthURL != "" {
		return in.Config.HealthURL
	}
	return DefaultHealthURL
}

// StartTimeout bounds one start or stop of the service, and its health check.
func (in *Installation) StartTimeout() time.Duration {
	if in.Config.StartTimeout > 0 {
		return time.Duration(in.Config.StartTimeout) * time.Second
	}
	return 60 * time.Second
}

// KeepBackups is how many backups to keep.
func (in *Installation) KeepBackups() int {
	if in.Config.KeepBackups > 0 {
		return in.Config.KeepBackups
	}
	return 3
}

func (in *Installation) resolve(p string) string {
	if filepath.IsAbs(p) || !strings.ContainsAny(p, `/\`) {
		return p
	}
	return filepath.Join(in.Root, filepath.FromSlash(p))
}

// Detect reads the installation at root. override holds what flags set; it wins over
// omflow-upgrade.json. A root that is not an OMFLOW installation, or whose version file
// cannot be read, is unusable input.
func Detect(root string, override Config) (*Installation, error) {
	if root == "" {
		root = DefaultRoot()
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("installation root %q: %w", root, err))
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("installation root %q: %w (give the OMFLOW root with -root)", root, err))
	}
	if !st.IsDir() {
		return nil, outcome.Unusable(fmt.Errorf("installation root %q is not a folder (give the OMFLOW root with -root)", root))
	}
	layout, err := detectLayout(abs)
	if err != nil {
		return nil, err
	}
	in := &Installation{Root: abs, Layout: layout}
	cfg, err := ReadConfig(abs)
	if err != nil {
		return nil, err
	}
	in.Config = cfg.Merge(override)
	if err := in.ReadVersion(); err != nil {
		return nil, err
	}
	return in, nil
}

func detectLayout(root string) (Layout, error) {
	for _, l := range []Layout{Linux, Windows} {
		p := filepath.Join(root, filepath.FromSlash(l.VersionFileRel()))
		if _, err := os.Lstat(p); err == nil {
			return l, nil
		}
	}
	return "", outcome.Unusable(fmt.Errorf("%q is not an OMFLOW installation: it has neither %s (Linux) nor %s (Windows); give the OMFLOW root with -root",
		root, Linux.VersionFileRel(), Windows.VersionFileRel()))
}

// ReadConfig reads omflow-upgrade.json at root; a missing file is an empty Config.
func ReadConfig(root string) (Config, error) {
	p := filepath.Join(root, ConfigName)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, outcome.Unusable(fmt.Errorf("read %q: %w", p, err))
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, outcome.Unusable(fmt.Errorf("read %q: %w (fix or remove the file)", p, err))
	}
	return c, nil
}

// WriteConfig writes omflow-upgrade.json at root.
func WriteConfig(root string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, ConfigName), append(b, '\n'), 0o644)
}
