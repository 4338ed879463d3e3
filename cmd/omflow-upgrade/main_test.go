package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/bundle"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/pkg"
)

// The test binary serves demo installations when started as their service.
func TestMain(m *testing.M) {
	if demo.Main(os.Args) {
		os.Exit(0)
	}
	if childMain() {
		return
	}
	os.Exit(m.Run())
}

// result is one run of the command line, in process.
type result struct {
	code           int
	stdout, stderr string
}

func cmd(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	return m
}

// fixture is a demo installation, a key pair and a signed package 1.1.6.3.
type fixture struct {
	dir, root, pub, key, pkg string
}

func newFixture(t *testing.T, installed string) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.root = filepath.Join(f.dir, "omflow")
	if r := cmd(t, "demo", "-root", f.root, "-version", installed, "-port", "0"); r.code != 0 {
		t.Fatalf("demo: %+v", r)
	}
	t.Cleanup(func() { exec.Command(filepath.Join(f.root, "server", "omflow_server"), "stop").Run() })
	if r := cmd(t, "keygen", "-out", filepath.Join(f.dir, "keys")); r.code != 0 {
		t.Fatalf("keygen: %+v", r)
	}
	f.pub = filepath.Join(f.dir, "keys", "omflow-upgrade.pub")
	f.key = filepath.Join(f.dir, "keys", "omflow-upgrade.key")
	src := filepath.Join(f.dir, "src")
	os.MkdirAll(filepath.Join(src, "server", "omflow"), 0o755)
	os.WriteFile(filepath.Join(src, "server", "omflow", "views.py"), []byte("# 1.1.6.3\n"), 0o644)
	f.pkg = filepath.Join(f.dir, "omflow_update_1_1_6_3.tar.gz")
	if r := cmd(t, "pack", "-key", f.key, "-version", "1.1.6.3", "-out", f.pkg, src); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	return f
}

// tree hashes every file under root except the run logs, which every run writes.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		switch rel {
		case "logs", ".omflow-upgrade", demo.RunDirName:
			return filepath.SkipDir
		}
		info, _ := d.Info()
		sum := ""
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		out[rel] = fmt.Sprintf("%v %s", info.Mode(), sum)
		return nil
	})
	return out
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range before {
		if after[p] != v {
			t.Errorf("%s changed: %q -> %q", p, v, after[p])
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}

func TestBadInputIsExit2WithOneClearLine(t *testing.T) {
	f := newFixture(t, "1.1.6.1")
	notOmflow := t.TempDir()
	brokenVersion := filepath.Join(t.TempDir(), "omflow")
	os.MkdirAll(filepath.Join(brokenVersion, "server", "omflow", "syscom"), 0o755)
	os.WriteFile(filepath.Join(brokenVersion, "server", "omflow", "syscom", "version.bin"), []byte("version=1.2\n"), 0o644)
	tests := []struct {
		name  string
		args  []string
		names string // what the message must name
	}{
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"unknown flag", []string{"check", "-frob", "-root", f.root, f.pkg}, "-frob"},
		{"missing package", []string{"check", "-root", f.root, "-pubkey", f.pub, filepath.Join(f.dir, "nope.tar.gz")}, "nope.tar.gz"},
		{"package is a folder", []string{"check", "-root", f.root, "-pubkey", f.pub, f.dir}, f.dir},
		{"no installation", []string{"check", "-root", notOmflow, "-pubkey", f.pub, f.pkg}, notOmflow},
		{"missing root", []string{"status", "-root", filepath.Join(notOmflow, "gone")}, "gone"},
		{"unreadable version file", []string{"status", "-root", brokenVersion}, "version.bin"},
		{"missing public key", []string{"check", "-root", f.root, "-pubkey", filepath.Join(f.dir, "none.pub"), f.pkg}, "none.pub"},
		{"wrong key", []string{"check", "-root", f.root, f.pkg}, "key"},
		{"flag after the package", []string{"check", "-root", f.root, f.pkg, "-json"}, "-json"},
		{"two packages", []string{"check", "-root", f.root, f.pkg, f.pkg}, f.pkg},
		{"bad config choice", []string{"check", "-root", f.root, "-config", "mine", f.pkg}, "mine"},
		{"malformed pack version", []string{"pack", "-key", f.key, "-version", "1.2.0", "-out", filepath.Join(f.dir, "x.tar.gz"), f.dir}, "1.2.0"},
		{"malformed pack django", []string{"pack", "-key", f.key, "-version", "1.2.0.0", "-django", "4.x", "-out", filepath.Join(f.dir, "x.tar.gz"), f.dir}, "4.x"},
		{"demo version", []string{"demo", "-root", filepath.Join(f.dir, "d"), "-version", "v1.2.0.0"}, "v1.2.0.0"},
		{"keygen without -out", []string{"keygen"}, "-out"},
	}
	before := tree(t, f.root)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cmd(t, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if !strings.Contains(first, tt.names) {
				t.Fatalf("first line %q does not name %q", first, tt.names)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
				t.Fatalf("stderr: %s", r.stderr)
			}
		})
	}
	sameTree(t, before, tree(t, f.root))
	if _, err := os.Stat(filepath.Join(f.dir, "x.tar.gz")); err == nil {
		t.Error("pack with a bad version wrote its output")
	}
}

func TestCheckIsReadOnlyAndNamesItsLog(t *testing.T) {
	f := newFixture(t, "1.1.6.1")
	before := tree(t, f.root)
	r := cmd(t, "check", "-root", f.root, "-pubkey", f.pub, "-files", "-json", f.pkg)
	if r.code != 0 {
		t.Fatalf("check: %+v", r)
	}
	j := r.json(t)
	if j["allowed"] != true || j["installed"] != "1.1.6.1" || j["update"] != "1.1.6.3" || j["reason"] != "fix-release" {
		t.Fatalf("check -json: %v", j)
	}
	files, _ := j["files"].([]any)
	if len(files) != 1 || files[0].(map[string]any)["action"] != "replace" || files[0].(map[string]any)["path"] != "server/omflow/views.py" {
		t.Fatalf("files: %v", j["files"])
	}
	logPath, _ := j["log"].(string)
	if !strings.HasPrefix(logPath, filepath.Join(f.root, "logs")) {
		t.Fatalf("log %q is not under the installation's logs/", logPath)
	}
	if b, err := os.ReadFile(logPath); err != nil || !strings.Contains(string(b), "check version: ok=true") {
		t.Fatalf("log: %v\n%s", err, b)
	}
	sameTree(t, before, tree(t, f.root))
	for _, args := range [][]string{{"status", "-root", f.root, "-json"}, {"plan", "-root", f.root, "-pubkey", f.pub, f.dir}} {
		cmd(t, args...)
	}
	if _, err := os.Stat(filepath.Join(f.root, ".omflow-upgrade")); err == nil {
		t.Fatal("a read-only command left the upgrade's state folder (lock, journal or temporary files) behind")
	}
}

func TestCheckRefusalIsExit3WithTheVersionToInstallFirst(t *testing.T) {
	f := newFixture(t, "1.1.3.2")
	r := cmd(t, "check", "-root", f.root, "-pubkey", f.pub, f.pkg)
	if r.code != 3 {
		t.Fatalf("exit %d: %+v", r.code, r)
	}
	if !strings.Contains(r.stdout, "install 1.1.4.0 first") || !strings.Contains(r.stderr, "log: ") {
		t.Fatalf("output does not say what to do or where the log is:\n%s\n%s", r.stdout, r.stderr)
	}
	// The log carries the reason code -json gives, on the check's line and the error's.
	reason := cmd(t, "check", "-root", f.root, "-pubkey", f.pub, "-json", f.pkg).json(t)["reason"].(string)
	logPath := strings.TrimSpace(r.stderr[strings.LastIndex(r.stderr, "log: ")+len("log: "):])
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reason=" + reason, "(exit 3, reason " + reason + ")"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the log lacks %q:\n%s", want, b)
		}
	}
}

// Read-only commands keep the newest logs of their kind; the logs of runs that changed
// something all stay.
func TestReadOnlyLogsArePruned(t *testing.T) {
	f := newFixture(t, "1.1.6.1")
	logs := filepath.Join(f.root, "logs")
	old := filepath.Join(logs, "omflow-upgrade-apply-20200101-000000-1.log")
	os.WriteFile(old, []byte("an old update\n"), 0o644)
	for i := range keepReadOnlyLogs + 3 {
		os.WriteFile(filepath.Join(logs, fmt.Sprintf("omflow-upgrade-status-20200101-%06d-1.log", i)), nil, 0o644)
	}
	if r := cmd(t, "status", "-root", f.root); r.code != 0 {
		t.Fatalf("status: %+v", r)
	}
	statusLogs, _ := filepath.Glob(filepath.Join(logs, "omflow-upgrade-status-*.log"))
	if len(statusLogs) != keepReadOnlyLogs {
		t.Fatalf("%d status logs kept, want %d", len(statusLogs), keepReadOnlyLogs)
	}
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("the log of an update was pruned: %v", err)
	}
}

func TestPackWritesTheSelfContainedProgram(t *testing.T) {
	f := newFixture(t, "1.1.6.1")
	template := filepath.Join(f.dir, "omflow-upgrade-wizard.exe")
	os.WriteFile(template, []byte("MZ stand-in of the wizard's program\n"), 0o755)
	src := filepath.Join(f.dir, "src-exe", "server")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "view.txt"), []byte("1.1.6.4\n"), 0o644)
	out := filepath.Join(f.dir, "omflow_update_1_1_6_4.tar.gz")
	r := cmd(t, "pack", "-key", f.key, "-version", "1.1.6.4", "-exe", template, "-json", "-out", out, filepath.Dir(src))
	if r.code != 0 {
		t.Fatalf("pack -exe: %+v", r)
	}
	program := filepath.Join(f.dir, "omflow_update_1_1_6_4.exe")
	if j := r.json(t); j["exe"] != program {
		t.Fatalf("pack -json: %v", j)
	}
	e, err := bundle.Find(program)
	if err != nil {
		t.Fatal(err)
	}
	extracted, err := e.Extract(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(extracted)
	if !bytes.Equal(a, b) {
		t.Fatal("the program carries another package")
	}
	if r := cmd(t, "check", "-root", f.root, "-pubkey", f.pub, extracted); r.code != 0 {
		t.Fatalf("the carried package does not check: %+v", r)
	}
}

// pack -python and -django go into the manifest's requires, which a Python move reads.
func TestPackRecordsThePythonAndDjangoTheUpdateRequires(t *testing.T) {
	f := newFixture(t, "1.1.6.1")
	src := filepath.Join(f.dir, "src-requires", "server")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "view.txt"), []byte("1.2.0.0\n"), 0o644)
	out := filepath.Join(f.dir, "omflow_update_1_2_0_0.tar.gz")
	if r := cmd(t, "pack", "-key", f.key, "-version", "1.2.0.0", "-python", "3.11", "-django", "4.2", "-out", out, filepath.Dir(src)); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	p, err := pkg.Open(t.Context(), out, pkg.Options{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Manifest.Requires; got.Python != "3.11" || got.Django != "4.2" {
		t.Fatalf("manifest requires %+v, want python 3.11 and django 4.2", got)
	}
}
