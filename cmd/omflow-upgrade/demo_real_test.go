//go:build !windows

package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// realRelease is one of OMFLOW's own releases in the shared folder next to the repository.
func realRelease(t *testing.T, v string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "omflow-real", "omflow-"+v+".tar.gz")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("OMFLOW's real releases are missing: %v (the shared folder ../shared/omflow-real next to the repository holds them)", err)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import django").Run(); err != nil {
		t.Fatalf("/usr/bin/python3 cannot import django: %v (install Debian's python3-django: apt-get install python3-django)", err)
	}
	return p
}

func stopReal(t *testing.T, root string) {
	t.Cleanup(func() { exec.Command(filepath.Join(root, "server", "omflow_server"), "stop").Run() })
}

func TestDemoRealInstallsAndRunsARelease(t *testing.T) {
	release := realRelease(t, "1.1.0.0")
	root := filepath.Join(t.TempDir(), "omflow")
	r := cmd(t, "demo", "-real", release, "-root", root, "-json")
	stopReal(t, root)
	if r.code != 0 {
		t.Fatalf("demo -real: %+v", r)
	}
	j := r.json(t)
	if j["ok"] != true || j["version"] != "1.1.0.0" || j["root"] != root || j["python"] != "/usr/bin/python3" ||
		j["service_log"] != filepath.Join(root, ".omflow-demo", "service.log") {
		t.Fatalf("demo -real -json: %v", j)
	}
	url, _ := j["url"].(string)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>OMFLOW</title>") || !strings.Contains(string(body), "version=1.1.0.0") {
		t.Fatalf("login page %s: %d\n%.300s", url, resp.StatusCode, body)
	}
	// The rest of the command sees an installation like any other.
	s := cmd(t, "status", "-root", root, "-json")
	if js := s.json(t); s.code != 0 || js["version"] != "1.1.0.0" || js["service"] != "running" || js["healthy"] != true || js["health_url"] != url {
		t.Fatalf("status: %+v", s)
	}
}

func TestDemoRealHumanOutputWithItsOwnVersion(t *testing.T) {
	release := realRelease(t, "1.0.0.1")
	root := filepath.Join(t.TempDir(), "omflow")
	r := cmd(t, "demo", "-real", release, "-root", root, "-version", "1.0.0.1", "-port", "0")
	stopReal(t, root)
	if r.code != 0 {
		t.Fatalf("demo -real: %+v", r)
	}
	for _, want := range []string{"OMFLOW 1.0.0.1", "omflow-1.0.0.1.tar.gz", root, "service running: http://127.0.0.1:",
		root + "/server/omflow_server {status|start|stop}", "service log: " + root + "/.omflow-demo/service.log"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDemoRealUsageErrors(t *testing.T) {
	release := realRelease(t, "1.0.0.1")
	dir := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		names string // what the first line of stderr must name
	}{
		{"other version", []string{"demo", "-real", release, "-root", filepath.Join(dir, "a"), "-version", "1.1.0.0"}, "1.1.0.0"},
		{"malformed version", []string{"demo", "-real", release, "-root", filepath.Join(dir, "b"), "-version", "1.1"}, "1.1"},
		{"no root", []string{"demo", "-real", release}, "-root"},
		{"missing release", []string{"demo", "-real", filepath.Join(dir, "omflow-9.9.9.9.tar.gz"), "-root", filepath.Join(dir, "c")}, "omflow-9.9.9.9.tar.gz"},
		{"python without django", []string{"demo", "-real", release, "-root", filepath.Join(dir, "d"), "-python", "/bin/false"}, "python3-django"},
		{"python without -real", []string{"demo", "-root", filepath.Join(dir, "e"), "-version", "1.1.6.1", "-python", "/usr/bin/python3"}, "-python"},
		{"bad port", []string{"demo", "-real", release, "-root", filepath.Join(dir, "f"), "-port", "70000"}, "70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cmd(t, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if first := strings.SplitN(r.stderr, "\n", 2)[0]; !strings.Contains(first, tt.names) {
				t.Fatalf("first line %q does not name %q", first, tt.names)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused demo -real made %v", entries)
	}
}
