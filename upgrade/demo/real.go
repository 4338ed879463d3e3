//go:build !windows

package demo

// A real OMFLOW installation: one of OMFLOW's own releases (a server/... tarball) laid out
// as the demo is, served by Django's development server (manage.py runserver) on loopback
// instead of Apache, behind the same kind of control script.

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/version"
)

// DefaultPython is the interpreter a real installation runs on unless told otherwise:
// Debian's, with its python3-django.
const DefaultPython = "/usr/bin/python3"

// ServiceLogName is the real service's output (Django's runserver), under RunDirName.
const ServiceLogName = "service.log"

// realStartTimeout is the installation's start_timeout, in seconds.
const realStartTimeout = 60

// RealOptions describe an installation of one of OMFLOW's real releases.
type RealOptions struct {
	Root    string // must not exist or be empty
	Release string // path to omflow-<v>.tar.gz (a server/... tree)
	Python  string // interpreter with Django; default DefaultPython
	Port    int    // 0 picks a free port
	// Version, when set, is the version the release must hold; a release of another
	// version is refused before anything is made.
	Version version.Version
	Logf    func(format string, args ...any)
}

// RealRelease is the path of OMFLOW's release version in dir, as the releases are named
// there (omflow-1.1.0.0.tar.gz).
func RealRelease(dir, version string) string {
	return filepath.Join(dir, "omflow-"+version+".tar.gz")
}

// CreateReal lays out the real OMFLOW release opt.Release at opt.Root and starts it: the
// tarball's server/ tree under Root/server, the control script server/omflow_server, logs/,
// and omflow-upgrade.json naming the control script, the login page as health URL, the
// Python and a start timeout. It returns once the login page answers 200.
func CreateReal(ctx context.Context, opt RealOptions) (*Result, error) {
	logf := opt.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	root, err := filepath.Abs(opt.Root)
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("demo root %q: %w", opt.Root, err))
	}
	if err := checkEmpty(root); err != nil {
		return nil, err
	}
	v, err := releaseVersion(opt.Release)
	if err != nil {
		return nil, outcome.Unusable(err)
	}
	if opt.Version != (version.Version{}) && v.Compare(opt.Version) != 0 {
		return nil, outcome.Unusable(fmt.Errorf("release %q is OMFLOW %s, not %s", opt.Release, v, opt.Version))
	}
	python := opt.Python
	if python == "" {
		python = DefaultPython
	}
	if python, err = exec.LookPath(python); err != nil {
		return nil, outcome.Unusable(fmt.Errorf("python %q: %w", opt.Python, err))
	}
	if python, err = filepath.Abs(python); err != nil {
		return nil, outcome.Unusable(fmt.Errorf("python %q: %w", opt.Python, err))
	}
	if err := CheckDjango(ctx, python); err != nil {
		return nil, outcome.Unusable(err)
	}
	port := opt.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("demo: pick a free port: %w", err)
		}
	}
	start := time.Now()
	n, err := extractRelease(ctx, opt.Release, root)
	if err == nil {
		err = layoutReal(root, python, port)
	}
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	logf("demo: OMFLOW %s from %s: %d files extracted into %s in %s", v, opt.Release, n, root, time.Since(start).Round(time.Millisecond))
	in, err := install.Detect(root, install.Config{})
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(root, RunDirName, ServiceLogName)
	logStart := fileSize(logPath)
	m := &svc.Script{Argv: in.Control(), Dir: root}
	sctx, cancel := context.WithTimeout(ctx, realStartTimeout*time.Second)
	defer cancel()
	start = time.Now()
	if err := m.Start(sctx); err != nil {
		return nil, fmt.Errorf("demo: start OMFLOW %s: %w", v, err)
	}
	if err := waitReal(sctx, m, in.HealthURL(), logPath, logStart); err != nil {
		// Leave no broken server behind; the tree and its log stay to be looked at.
		stopCtx, stopCancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer stopCancel()
		m.Stop(stopCtx)
		return nil, fmt.Errorf("demo: OMFLOW %s at %s: %w", v, root, err)
	}
	logf("demo: OMFLOW %s answers %s after %s", v, in.HealthURL(), time.Since(start).Round(time.Millisecond))
	return &Result{Root: root, Port: port, HealthURL: in.HealthURL()}, nil
}

// releaseVersion reads the version.bin of a release tarball; a tarball without one is
// not an OMFLOW release.
func releaseVersion(tarball string) (version.Version, error) {
	const rel = "server/omflow/syscom/version.bin"
	var (
		v     version.Version
		found bool
	)
	err := walkRelease(context.Background(), tarball, func(h *tar.Header, name string, r io.Reader) error {
		if name != rel || h.Typeflag != tar.TypeReg {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(r, 4096))
		if err != nil {
			return err
		}
		if v, err = install.ParseVersionFile(b); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		found = true
		return errStopWalk
	})
	if err != nil {
		return version.Version{}, fmt.Errorf("release %q: %w", tarball, err)
	}
	if !found {
		return version.Version{}, fmt.Errorf("release %q is not an OMFLOW release: it has no %s", tarball, rel)
	}
	return v, nil
}

var errStopWalk = errors.New("stop")

// walkRelease calls fn for each member of a release tarball with its checked name: clean,
// relative, and under server/.
func walkRelease(ctx context.Context, tarball string, fn func(h *tar.Header, name string, r io.Reader) error) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return fmt.Errorf("tar: %w", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name, err := releaseMember(h.Name)
		if err != nil {
			return err
		}
		if err := fn(h, name, tr); err == errStopWalk {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// releaseMember checks a member's name: relative, no "..", under server/.
func releaseMember(name string) (string, error) {
	clean := strings.TrimSuffix(strings.TrimPrefix(name, "./"), "/")
	if clean == "" || strings.HasPrefix(clean, "/") || strings.Contains(clean, `\`) {
		return "", fmt.Errorf("member %q: not a relative path", name)
	}
	for _, el := range strings.Split(clean, "/") {
		if el == ".." || el == "." || el == "" {
			return "", fmt.Errorf("member %q: a path with %q elements", name, el)
		}
	}
	if clean != "server" && !strings.HasPrefix(clean, "server/") {
		return "", fmt.Errorf("member %q is not under server/ (an OMFLOW release is a server/... tree)", name)
	}
	return clean, nil
}

// extractRelease writes the release's members under root, which must be empty or
// missing, and nowhere else; files and folders keep their permission bits (files their
// times too); links and special files are refused. It returns the number of files.
func extractRelease(ctx context.Context, tarball, root string) (int, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return 0, err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var (
		files int
		dirs  = map[string]fs.FileMode{}
	)
	err = walkRelease(ctx, tarball, func(h *tar.Header, name string, body io.Reader) error {
		mode := fs.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			// Folder modes go on last: a read-only folder would refuse its files.
			dirs[name] = mode
			return r.MkdirAll(name, 0o755)
		case tar.TypeReg:
			files++
			if dir := filepath.Dir(name); dir != "." {
				if err := r.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
			return writeMember(r, name, mode, h.ModTime, body)
		}
		return fmt.Errorf("member %q: %s not allowed (a release holds only files and folders)", name, typeName(h.Typeflag))
	})
	if err != nil {
		return 0, outcome.Unusable(fmt.Errorf("extract release %q: %w", tarball, err))
	}
	for name, mode := range dirs {
		if err := r.Chmod(name, mode); err != nil {
			return 0, err
		}
	}
	return files, nil
}

func writeMember(r *os.Root, name string, mode fs.FileMode, mtime time.Time, body io.Reader) error {
	// O_EXCL: a member named twice, or a name already made a folder, is refused.
	f, err := r.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := r.Chmod(name, mode); err != nil { // the umask narrowed it
		return err
	}
	return r.Chtimes(name, mtime, mtime)
}

func typeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeFifo:
		return "named pipe"
	}
	return fmt.Sprintf("member type %q", t)
}

// layoutReal adds what an installation has beside its release: the control script, the
// service's port and Python, logs/ and omflow-upgrade.json.
func layoutReal(root, python string, port int) error {
	run := filepath.Join(root, RunDirName)
	for _, f := range []struct {
		path    string
		content string
		mode    os.FileMode
	}{
		{filepath.Join(root, "server", "omflow_server"), realControlScript, 0o755},
		{filepath.Join(run, "port"), strconv.Itoa(port) + "\n", 0o644},
		{filepath.Join(run, "python"), python + "\n", 0o644},
		{filepath.Join(root, "logs", ".keep"), "", 0o644},
	} {
		if err := writeFile(f.path, []byte(f.content), f.mode); err != nil {
			return err
		}
	}
	return install.WriteConfig(root, install.Config{
		Control:      []string{"server/omflow_server"},
		HealthURL:    fmt.Sprintf("http://127.0.0.1:%d/accounts/login/", port),
		Python:       python,
		StartTimeout: realStartTimeout,
	})
}

// waitReal waits until the login page answers 200. It gives up early, with the end of
// the service's log, when the server exits, or when Django reports an error before it
// listens: OMFLOW starts threads before its AppConfig.ready() can fail, and a server whose
// ready() failed lives on without ever listening.
func waitReal(ctx context.Context, m *svc.Script, url, logPath string, logStart int64) error {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan string, 1)
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-tick.C:
			}
			if st, err := m.Status(hctx); err == nil && st == svc.Stopped {
				failed <- "the server exited"
				cancel()
				return
			}
			if log := readFrom(logPath, logStart); strings.Contains(log, "Traceback (most recent call last)") &&
				!strings.Contains(log, "Starting development server") {
				failed <- "Django failed before it listened"
				cancel()
				return
			}
		}
	}()
	err := svc.CheckHealth(hctx, url)
	if err == nil {
		return nil
	}
	select {
	case why := <-failed:
		return fmt.Errorf("%s; the end of %s:\n%s", why, logPath, lastLines(readFrom(logPath, logStart), 12))
	default:
		return fmt.Errorf("%w (its log: %s)", err, logPath)
	}
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// readFrom reads a log from offset on, at most its last 1 MB.
func readFrom(p string, offset int64) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	if size := fileSize(p); size-offset > 1<<20 {
		offset = size - 1<<20
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// realControlScript is server/omflow_server of a real installation. It depends on nothing
// under server/ but manage.py: the port and the Python are in RunDirName, so the same
// script serves every installation and survives an update that replaces server/.
// start returns once the server is launched (the caller checks the login page); stop
// waits until it has exited.
const realControlScript = `#!/bin/sh
# Control script of an OMFLOW installation (made by omflow-upgrade demo -real): OMFLOW's
# own Django server, manage.py runserver, on loopback.
# Usage: omflow_server {status|start|stop}
` + scriptHelpers + `PIDFILE="$RUN/pid"
LOG="$RUN/` + ServiceLogName + `"
case "$1" in
status)
	status ;;
start)
	if running; then echo "OMFLOW is already running"; exit 0; fi
	PYTHON=$(cat "$RUN/python" 2>/dev/null) && PORT=$(cat "$RUN/port" 2>/dev/null) ||
		{ echo "OMFLOW cannot start: $RUN/python or $RUN/port is missing"; exit 1; }
	cd "$ROOT/server" || exit 1
	# Its own session (setsid), so that it outlives its caller; no pipe of the caller
	# held open. No .pyc files: the tree is the updater's to compare and back up.
	if command -v setsid >/dev/null 2>&1; then DETACH=setsid; else DETACH=nohup; fi
	PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 $DETACH "$PYTHON" manage.py runserver --noreload "127.0.0.1:$PORT" >>"$LOG" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
	echo "OMFLOW started (pid $!) on 127.0.0.1:$PORT; its output: $LOG"; exit 0 ;;
stop)
	stop 400; exit 0 ;;
*)
	echo "usage: $0 {status|start|stop}" >&2; exit 2 ;;
esac
`
