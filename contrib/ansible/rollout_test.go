// Package ansible_test runs rollout.yml with the real ansible-playbook against demo
// installations on this machine (ansible_connection=local), with the real omflow-upgrade
// program built from this module.
package ansible_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/internal/testneed"
)

// bin is omflow-upgrade, built once by TestMain; empty when ansible-playbook is missing.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if _, err := exec.LookPath("ansible-playbook"); err == nil {
		dir, err := os.MkdirTemp("", "omflow-ansible-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "omflow-upgrade")
		// go test puts its own go first in PATH.
		build := exec.Command("go", "build", "-o", bin, "omflow-upgrade/cmd/omflow-upgrade")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build omflow-upgrade: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

// cli runs omflow-upgrade and returns its stdout, its stderr and its exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	c := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("omflow-upgrade %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), c.ProcessState.ExitCode()
}

func mustCLI(t *testing.T, args ...string) {
	t.Helper()
	if out, errs, code := cli(t, args...); code != 0 {
		t.Fatalf("omflow-upgrade %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
}

// rollout is a controller: keys, packages, demo installations as hosts, an inventory.
type rollout struct {
	t        *testing.T
	dir      string
	pub, key string
	hosts    []host
}

type host struct {
	name, root string
	vars       map[string]any // more host vars
}

func newRollout(t *testing.T) *rollout {
	t.Helper()
	if bin == "" {
		testneed.Missing(t, "ansible-playbook (Debian: apt-get install ansible-core)")
	}
	t.Parallel()
	r := &rollout{t: t, dir: t.TempDir()}
	mustCLI(t, "keygen", "-out", filepath.Join(r.dir, "keys"))
	r.pub = filepath.Join(r.dir, "keys", "omflow-upgrade.pub")
	r.key = filepath.Join(r.dir, "keys", "omflow-upgrade.key")
	return r
}

// pack makes package version from files (root-relative path: content, mode 0755 when the
// content starts with "#!").
func (r *rollout) pack(name, version string, files map[string]string) string {
	r.t.Helper()
	src := filepath.Join(r.dir, "src-"+name)
	for p, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(p)), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte(content), mode); err != nil {
			r.t.Fatal(err)
		}
	}
	out := filepath.Join(r.dir, name+".tar.gz")
	mustCLI(r.t, "pack", "-key", r.key, "-version", version, "-out", out, src)
	return out
}

// addHost makes a demo installation of version, its service started on a free port.
func (r *rollout) addHost(name, version string, vars map[string]any) host {
	r.t.Helper()
	h := host{name: name, root: filepath.Join(r.dir, "hosts", name, "omflow"), vars: vars}
	mustCLI(r.t, "demo", "-root", h.root, "-version", version, "-port", "0")
	r.t.Cleanup(func() { exec.Command(filepath.Join(h.root, "server", "omflow_server"), "stop").Run() })
	r.hosts = append(r.hosts, h)
	return h
}

func (r *rollout) remoteDir(h host) string { return filepath.Join(r.dir, "hosts", h.name, "upload") }
func (r *rollout) results() string         { return filepath.Join(r.dir, "results") }

// play runs rollout.yml over the hosts with package pkg and returns the output and the
// exit code of ansible-playbook.
func (r *rollout) play(pkg string) (string, int) {
	r.t.Helper()
	hosts := map[string]any{}
	for _, h := range r.hosts {
		v := map[string]any{"omflow_root": h.root, "omflow_remote_dir": r.remoteDir(h)}
		for k, x := range h.vars {
			v[k] = x
		}
		hosts[h.name] = v
	}
	inv := map[string]any{"all": map[string]any{
		"hosts": hosts,
		"vars": map[string]any{
			"ansible_connection":         "local",
			"ansible_python_interpreter": "auto_silent",
			"omflow_upgrade_bin":         bin,
			"omflow_package":             pkg,
			"omflow_pubkey":              r.pub,
			"omflow_results_dir":         r.results(),
		},
	}}
	b, err := json.MarshalIndent(inv, "", "  ") // JSON is YAML
	if err != nil {
		r.t.Fatal(err)
	}
	invFile := filepath.Join(r.dir, "inventory.yml")
	if err := os.WriteFile(invFile, b, 0o644); err != nil {
		r.t.Fatal(err)
	}
	playbook, err := filepath.Abs("rollout.yml")
	if err != nil {
		r.t.Fatal(err)
	}
	// Hosts are played in the inventory's order: a JSON object's keys come sorted, and
	// the tests name their hosts in order.
	c := exec.Command("ansible-playbook", "-i", invFile, playbook)
	c.Dir = r.dir
	c.Env = append(os.Environ(),
		"ANSIBLE_HOST_KEY_CHECKING=False",
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(r.dir, "ansible-local"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(r.dir, "ansible-remote"),
	)
	out, err := c.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		r.t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	r.t.Logf("ansible-playbook exit %d:\n%s", c.ProcessState.ExitCode(), out)
	return string(out), c.ProcessState.ExitCode()
}

// status is omflow-upgrade status -json of h.
type status struct {
	Version string `json:"version"`
	Service string `json:"service"`
	Healthy bool   `json:"healthy"`
}

func (r *rollout) status(h host) status {
	r.t.Helper()
	out, errs, code := cli(r.t, "status", "-root", h.root, "-json")
	var s status
	if err := json.Unmarshal([]byte(out), &s); err != nil || code != 0 {
		r.t.Fatalf("status %s: exit %d, %v\n%s%s", h.name, code, err, out, errs)
	}
	return s
}

// wantRunning checks that h runs version and answers.
func (r *rollout) wantRunning(h host, version string) {
	r.t.Helper()
	if s := r.status(h); s.Version != version || s.Service != "running" || !s.Healthy {
		r.t.Errorf("host %s: %+v, want version %s, running and healthy", h.name, s, version)
	}
}

// result is a host's record in the results folder.
type result struct {
	Host, Stage, Meaning, Version, From, Reason, Requires, Error, Log string
	OK                                                                bool
	Exit                                                              int
	Apply                                                             map[string]any
}

func (r *rollout) result(h host) (result, bool) {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.results(), h.name+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return result{}, false
	}
	var res result
	if err != nil || json.Unmarshal(b, &res) != nil {
		r.t.Fatalf("result of %s: %v\n%s", h.name, err, b)
	}
	return res, true
}

// wantUntouched checks that the rollout did nothing on h: nothing copied, no result.
func (r *rollout) wantUntouched(h host, version string) {
	r.t.Helper()
	r.wantRunning(h, version)
	if _, err := os.Stat(r.remoteDir(h)); !errors.Is(err, os.ErrNotExist) {
		r.t.Errorf("host %s after the stop: the rollout copied files to it (%v)", h.name, err)
	}
	if _, ok := r.result(h); ok {
		r.t.Errorf("host %s after the stop: it has a result", h.name)
	}
}

func (r *rollout) wantUpdated(h host, from, to string) {
	r.t.Helper()
	r.wantRunning(h, to)
	res, ok := r.result(h)
	if !ok {
		r.t.Fatalf("host %s: no result recorded", h.name)
	}
	if !res.OK || res.Exit != 0 || res.Stage != "apply" || res.From != from || res.Version != to || res.Apply["version"] != to {
		r.t.Errorf("host %s: result %+v, want %s -> %s by apply", h.name, res, from, to)
	}
	if !strings.HasPrefix(res.Log, h.root) {
		r.t.Errorf("host %s: log %q is not the installation's", h.name, res.Log)
	}
	if b, err := os.ReadFile(filepath.Join(r.results(), h.name+".log")); err != nil || !bytes.Contains(b, []byte(to)) {
		r.t.Errorf("host %s: fetched log: %v\n%s", h.name, err, b)
	}
}

var update = map[string]string{"server/omflow/views.py": "# OMFLOW 1.1.6.3\n"}

func TestRolloutUpdatesEveryHost(t *testing.T) {
	r := newRollout(t)
	pkg := r.pack("omflow_update_1_1_6_3", "1.1.6.3", update)
	a := r.addHost("a", "1.1.6.1", nil)
	b := r.addHost("b", "1.1.6.1", nil)

	out, code := r.play(pkg)
	if code != 0 {
		t.Fatalf("ansible-playbook exit %d", code)
	}
	r.wantUpdated(a, "1.1.6.1", "1.1.6.3")
	r.wantUpdated(b, "1.1.6.1", "1.1.6.3")
	for _, h := range []string{"a", "b"} {
		if !strings.Contains(out, h+": OMFLOW 1.1.6.3 (done)") {
			t.Errorf("the play does not say that %s is done", h)
		}
	}

	// Again: every host is there already, nothing is applied, the rollout succeeds.
	if _, code := r.play(pkg); code != 0 {
		t.Fatalf("second rollout: ansible-playbook exit %d", code)
	}
	for _, h := range []host{a, b} {
		r.wantRunning(h, "1.1.6.3")
		if res, _ := r.result(h); !res.OK || res.Stage != "check" || res.Reason != "already-installed" || res.Meaning != "already at this version" {
			t.Errorf("second rollout, host %s: %+v", h.name, res)
		}
	}
}

// A folder of packages: each host climbs its own chain, hop by hop.
func TestRolloutOfAFolder(t *testing.T) {
	r := newRollout(t)
	folder := filepath.Join(r.dir, "updates")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.1.4.0", "1.1.6.0", "1.1.6.3"} {
		p := r.pack("omflow_update_"+v, v, map[string]string{"server/omflow/views.py": "# OMFLOW " + v + "\n"})
		if err := os.Rename(p, filepath.Join(folder, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	a := r.addHost("a", "1.1.3.2", nil) // 1.1.4.0, 1.1.6.0, 1.1.6.3
	b := r.addHost("b", "1.1.6.1", nil) // 1.1.6.3

	if _, code := r.play(folder + "/"); code != 0 {
		t.Fatalf("ansible-playbook exit %d", code)
	}
	r.wantUpdated(a, "1.1.3.2", "1.1.6.3")
	r.wantUpdated(b, "1.1.6.1", "1.1.6.3")
	for _, hw := range []struct {
		h    host
		hops int
	}{{a, 3}, {b, 1}} {
		res, _ := r.result(hw.h)
		if hops, _ := res.Apply["hops"].([]any); len(hops) != hw.hops {
			t.Errorf("host %s: hops %v, want %d", hw.h.name, res.Apply["hops"], hw.hops)
		}
	}

	// Again: the plans are empty, nothing is applied.
	if _, code := r.play(folder); code != 0 {
		t.Fatalf("second rollout: ansible-playbook exit %d", code)
	}
	for _, h := range []host{a, b} {
		if res, _ := r.result(h); !res.OK || res.Stage != "check" || res.Meaning != "already at this version" {
			t.Errorf("second rollout, host %s: %+v", h.name, res)
		}
	}
}

// The second of three hosts is refused by the check (exit 3) or fails the apply, which
// rolls back (exit 4): the first stays updated, the second runs as before, the third is
// not touched, and the play names the host and the reason.
func TestRolloutStopsAtTheFirstBadHost(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string // of host b
		broken  bool   // host b gets an update whose service cannot start
		result  func(result) bool
		output  []string
	}{
		{
			name: "refused", version: "1.1.3.2", // below 1.1.4.0: must climb to 1.1.4.0 first
			result: func(res result) bool {
				return !res.OK && res.Stage == "check" && res.Exit == 3 && res.Reason == "needs-1.1.4.0" && res.Requires == "1.1.4.0"
			},
			output: []string{"rollout stopped at b: check exited 3 (refused), reason needs-1.1.4.0, requires 1.1.4.0",
				"cannot be installed on 1.1.3.2", "OMFLOW there: 1.1.3.2"},
		},
		{
			name: "failed and rolled back", version: "1.1.6.1", broken: true,
			result: func(res result) bool {
				return !res.OK && res.Stage == "apply" && res.Exit == 4 && res.Version == "1.1.6.1" && res.Apply["rolled_back"] == true
			},
			output: []string{"rollout stopped at b: apply exited 4 (the update failed and was rolled back",
				"this build cannot start", "OMFLOW there: 1.1.6.1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRollout(t)
			pkg := r.pack("omflow_update_1_1_6_3", "1.1.6.3", update)
			var vars map[string]any
			if tc.broken {
				vars = map[string]any{"omflow_package": r.pack("omflow_update_broken", "1.1.6.3", map[string]string{
					"server/omflow_server": "#!/bin/sh\necho 'this build cannot start' >&2\nexit 1\n",
				})}
			}
			a := r.addHost("a", "1.1.6.1", nil)
			b := r.addHost("b", tc.version, vars)
			c := r.addHost("c", "1.1.6.1", nil)

			out, code := r.play(pkg)
			if code == 0 {
				t.Fatal("ansible-playbook succeeded")
			}
			r.wantUpdated(a, "1.1.6.1", "1.1.6.3")
			r.wantRunning(b, tc.version)
			r.wantUntouched(c, "1.1.6.1")
			res, ok := r.result(b)
			if !ok || res.Log == "" || !tc.result(res) {
				t.Errorf("host b: result %+v", res)
			}
			for _, s := range append(tc.output, "fatal: [b]", "log on the host: "+res.Log) {
				if !strings.Contains(out, s) {
					t.Errorf("the play's output lacks %q", s)
				}
			}
		})
	}
}
