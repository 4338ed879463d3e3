//go:build !windows

package demo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/version"
)

// realDir holds OMFLOW's real releases (see its README.md).
const realDir = "../../../shared/omflow-real"

// needReal fails (never skips) when the releases or Django are missing.
func needReal(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(RealRelease(realDir, "1.1.0.0")); err != nil {
		t.Fatalf("OMFLOW's real releases are missing: %v (the shared folder ../shared/omflow-real next to the repository holds them)", err)
	}
	if err := CheckDjango(context.Background(), DefaultPython); err != nil {
		t.Fatal(err)
	}
}

func newReal(t *testing.T, v string) *Result {
	t.Helper()
	needReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	res, err := CreateReal(ctx, RealOptions{Root: filepath.Join(t.TempDir(), "omflow"), Release: RealRelease(realDir, v), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command(filepath.Join(res.Root, "server", "omflow_server"), "stop").Run() })
	t.Logf("OMFLOW %s up in %s on port %d", v, time.Since(start).Round(time.Millisecond), res.Port)
	return res
}

// control runs the installation's control script as the updater does, output piped:
// a start that left the server holding the pipe would hang here.
func control(t *testing.T, res *Result, action string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(res.Root, "server", "omflow_server"), action)
	cmd.Dir = res.Root
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("omflow_server %s did not return: %s", action, out)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("omflow_server %s: %v", action, err)
	}
	return cmd.ProcessState.ExitCode()
}

// wantOMFLOW checks that the login page is OMFLOW's own, of version v.
func wantOMFLOW(t *testing.T, res *Result, v string) {
	t.Helper()
	code, body := get(t, res.HealthURL)
	if code != 200 || !strings.Contains(body, "<title>OMFLOW</title>") || !strings.Contains(body, "omflow.css?version="+v) {
		t.Fatalf("login page of %s: %d\n%.500s", v, code, body)
	}
}

func answers(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func TestRealReleasesRunSideBySideUnderTheirControlScript(t *testing.T) {
	versions := []string{"1.0.0.1", "1.1.0.0"}
	var all []*Result
	for _, v := range versions {
		all = append(all, newReal(t, v))
	}
	if all[0].Port == all[1].Port {
		t.Fatalf("both on port %d", all[0].Port)
	}
	for i, res := range all {
		v, other := versions[i], all[1-i]
		wantOMFLOW(t, res, v)
		checkRealLayout(t, res, v)
		if code := control(t, res, "status"); code != 0 {
			t.Fatalf("%s: status exit %d while running", v, code)
		}
		if code := control(t, res, "stop"); code != 0 {
			t.Fatalf("%s: stop exit %d", v, code)
		}
		if code := control(t, res, "status"); code == 0 {
			t.Fatalf("%s: status exit 0 after stop", v)
		}
		if answers(res.Port) {
			t.Fatalf("%s: port %d still answers after stop", v, res.Port)
		}
		if code := control(t, res, "stop"); code != 0 {
			t.Fatalf("%s: stop of a stopped server: exit %d", v, code)
		}
		wantOMFLOW(t, other, versions[1-i]) // the other one is not disturbed
		if code := control(t, res, "start"); code != 0 {
			t.Fatalf("%s: start exit %d", v, code)
		}
		if code := control(t, res, "start"); code != 0 {
			t.Fatalf("%s: start while running: exit %d", v, code)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err := svc.CheckHealth(ctx, res.HealthURL)
		cancel()
		if err != nil {
			t.Fatalf("%s after a restart: %v", v, err)
		}
		wantOMFLOW(t, res, v)
	}
	// Serving wrote nothing into the tree an update compares and backs up: no bytecode
	// (1.1.0.0 ships cpython-37 .pyc files of its own), no logs.
	for i, res := range all {
		shipped := map[string]bool{"server/omflow_server": true}
		walkRelease(context.Background(), RealRelease(realDir, versions[i]), func(_ *tar.Header, name string, _ io.Reader) error {
			shipped[name] = true
			return nil
		})
		filepath.WalkDir(filepath.Join(res.Root, "server"), func(p string, d os.DirEntry, err error) error {
			rel, _ := filepath.Rel(res.Root, p)
			if err == nil && !shipped[filepath.ToSlash(rel)] {
				t.Errorf("%s: the server wrote %s", versions[i], rel)
			}
			return nil
		})
	}
}

func checkRealLayout(t *testing.T, res *Result, v string) {
	t.Helper()
	in, err := install.Detect(res.Root, install.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Version.String() != v || in.Layout != install.Linux {
		t.Fatalf("installation: %s %s", in.Layout, in.Version)
	}
	if in.Config.HealthURL != res.HealthURL || in.Python() != DefaultPython || in.Config.StartTimeout != 60 ||
		len(in.Config.Control) != 1 || in.Config.Control[0] != "server/omflow_server" {
		t.Fatalf("omflow-upgrade.json: %+v", in.Config)
	}
	// The tarball's modes: manage.py is executable there, LICENSE is not.
	for name, want := range map[string]os.FileMode{"manage.py": 0o775, "LICENSE": 0o664} {
		if st, err := os.Stat(filepath.Join(in.ProjectDir(), name)); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", name, st.Mode(), err, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(res.Root, RunDirName, ServiceLogName)); err != nil || !strings.Contains(string(b), "Starting development server") {
		t.Errorf("service log: %v\n%s", err, b)
	}
}

func TestCreateRealFailsFastWhenTheReleaseDoesNotStart(t *testing.T) {
	needReal(t)
	// 1.0.0.0's settings name an app, ommonitor, its tree lacks: AppConfig.ready() fails,
	// and the process lives on without listening.
	root := filepath.Join(t.TempDir(), "omflow")
	start := time.Now()
	_, err := CreateReal(context.Background(), RealOptions{Root: root, Release: RealRelease(realDir, "1.0.0.0")})
	t.Cleanup(func() { exec.Command(filepath.Join(root, "server", "omflow_server"), "stop").Run() })
	if err == nil || !strings.Contains(err.Error(), "ommonitor") || !strings.Contains(err.Error(), ServiceLogName) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s to fail", d)
	}
	if testing.Verbose() {
		t.Log(err)
	}
	if err := exec.Command(filepath.Join(root, "server", "omflow_server"), "status").Run(); err == nil {
		t.Error("the broken server was left running")
	}
}

func TestCreateRealRefusesBeforeMakingAnything(t *testing.T) {
	release := RealRelease(realDir, "1.0.0.1")
	notEmpty := t.TempDir()
	os.WriteFile(filepath.Join(notEmpty, "keep.txt"), []byte("mine"), 0o644)
	tests := []struct {
		name string
		opt  RealOptions
		want string
	}{
		{"not empty", RealOptions{Root: notEmpty, Release: release}, "not empty"},
		{"other version", RealOptions{Release: release, Version: version.MustParse("1.1.0.0")}, "is OMFLOW 1.0.0.1, not 1.1.0.0"},
		{"no release", RealOptions{Release: filepath.Join(t.TempDir(), "omflow-9.tar.gz")}, "omflow-9.tar.gz"},
		{"not a release", RealOptions{Release: writeTarball(t, []tar.Header{{Name: "server/manage.py", Typeflag: tar.TypeReg}})}, "not an OMFLOW release"},
		{"no django", RealOptions{Release: release, Python: "/bin/false"}, "python3-django"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tt.opt.Root
			if root == "" {
				root = filepath.Join(t.TempDir(), "omflow")
				tt.opt.Root = root
			}
			_, err := CreateReal(context.Background(), tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if root != notEmpty {
				if _, err := os.Stat(root); err == nil {
					t.Errorf("%s was made", root)
				}
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(notEmpty, "keep.txt")); string(b) != "mine" {
		t.Fatal("the existing file was touched")
	}
}

func TestCheckDjangoNamesTheInterpreterAndThePackage(t *testing.T) {
	err := CheckDjango(context.Background(), "/bin/false")
	if err == nil || !strings.Contains(err.Error(), "/bin/false") || !strings.Contains(err.Error(), "apt-get install python3-django") {
		t.Fatalf("err = %v", err)
	}
}

// writeTarball writes a release tarball of the given members (files get "x").
func writeTarball(t *testing.T, members []tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range members {
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "x"
		}
		h.Size = int64(len(body))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(t.TempDir(), "omflow-test.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtractRealReleaseRefusesUnsafeMembers(t *testing.T) {
	file := func(name string) tar.Header { return tar.Header{Name: name, Typeflag: tar.TypeReg} }
	tests := []struct {
		name   string
		member tar.Header
		want   string
	}{
		{"dot-dot", file("server/../../evil"), ".."},
		{"dot-dot inside", file("server/omflow/../views.py"), ".."},
		{"absolute", file("/tmp/evil"), "not a relative path"},
		{"outside server", file("evil.py"), "not under server/"},
		{"symbolic link", tar.Header{Name: "server/link", Typeflag: tar.TypeSymlink, Linkname: "/etc"}, "symbolic link"},
		{"hard link", tar.Header{Name: "server/hard", Typeflag: tar.TypeLink, Linkname: "server/manage.py"}, "hard link"},
		{"named pipe", tar.Header{Name: "server/fifo", Typeflag: tar.TypeFifo}, "named pipe"},
		{"twice", file("server/manage.py"), "exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "omflow")
			tarball := writeTarball(t, []tar.Header{{Name: "server/", Typeflag: tar.TypeDir, Mode: 0o755}, file("server/manage.py"), tt.member})
			_, err := extractRelease(context.Background(), tarball, root)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("written beside the root: %v", entries)
			}
		})
	}
	// A good one keeps its modes.
	root := filepath.Join(t.TempDir(), "omflow")
	tarball := writeTarball(t, []tar.Header{{Name: "server/", Typeflag: tar.TypeDir, Mode: 0o750},
		{Name: "server/manage.py", Typeflag: tar.TypeReg, Mode: 0o755}, {Name: "server/db.omflow", Typeflag: tar.TypeReg, Mode: 0o600}})
	if n, err := extractRelease(context.Background(), tarball, root); err != nil || n != 2 {
		t.Fatalf("extract: %d %v", n, err)
	}
	for name, want := range map[string]os.FileMode{"server": 0o750, "server/manage.py": 0o755, "server/db.omflow": 0o600} {
		if st, err := os.Stat(filepath.Join(root, name)); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", name, st.Mode(), err, want)
		}
	}
}
