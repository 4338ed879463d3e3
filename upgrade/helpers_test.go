package upgrade

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"os/exec"

	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/version"
)

// The test binary serves demo installations when started as their service.
func TestMain(m *testing.M) {
	if demo.Main(os.Args) {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// keys is one key pair for every package a test makes.
var keys struct {
	once     sync.Once
	pub, key string
	err      error
}

func keyPair(t *testing.T) (pub, key string) {
	t.Helper()
	keys.once.Do(func() {
		dir, err := os.MkdirTemp("", "omflow-upgrade-test-keys")
		if err != nil {
			keys.err = err
			return
		}
		keys.pub, keys.key, keys.err = pkg.GenerateKey(dir)
	})
	if keys.err != nil {
		t.Fatal(keys.err)
	}
	return keys.pub, keys.key
}

// newDemo makes a demo installation in dir (a new folder in t.TempDir() when empty) and
// stops its service at the end of the test.
func newDemo(t *testing.T, dir, v string) *install.Installation {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	root := filepath.Join(dir, "omflow")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := demo.Create(ctx, demo.Options{Root: root, Version: version.MustParse(v)}); err != nil {
		t.Fatal(err)
	}
	in, err := install.Detect(root, install.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { (&svc.Script{Argv: in.Control(), Dir: root}).Stop(context.Background()) })
	return in
}

// release describes a package to build.
type release struct {
	version string
	from    string
	files   map[string]string // root-relative path -> content
	modes   map[string]os.FileMode
	delete  []string
	base    map[string]string // pack -base: the previous release's copies
	python  string
	links   map[string]string // root-relative path -> link target
}

func buildPackage(t *testing.T, r release) string {
	t.Helper()
	_, key := keyPair(t)
	src := t.TempDir()
	for rel, content := range r.files {
		p := filepath.Join(src, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		mode := os.FileMode(0o644)
		if m, ok := r.modes[rel]; ok {
			mode = m
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	for rel, target := range r.links {
		p := filepath.Join(src, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	k, err := pkg.LoadPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	baseDir := ""
	if r.base != nil {
		baseDir = t.TempDir()
		for rel, content := range r.base {
			p := filepath.Join(baseDir, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(content), 0o644)
		}
	}
	out := filepath.Join(t.TempDir(), "omflow_update_"+strings.ReplaceAll(r.version, ".", "_")+".tar.gz")
	if _, err := pkg.Pack(context.Background(), pkg.PackOptions{SrcDir: src, Out: out, Key: k, Version: r.version, From: r.from,
		Delete: r.delete, BaseDir: baseDir, Python: r.python}); err != nil {
		t.Fatal(err)
	}
	return out
}

// options are the core's options for a test: the test key, a short service timeout.
func options(t *testing.T, in *install.Installation) Options {
	pub, _ := keyPair(t)
	return Options{Root: in.Root, PublicKey: pub, Override: install.Config{StartTimeout: 5}}
}

// snapshot hashes the installation's tree (content and mode of every file and folder),
// leaving out what is not OMFLOW's: run logs, the upgrade's state folder, the demo
// service's run files.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == "logs" || rel == install.StateDirName || rel == demo.RunDirName:
			if d.IsDir() {
				return filepath.SkipDir
			}
		case rel == ".":
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		out[rel] = fmt.Sprintf("%v %s", info.Mode(), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffTrees(want, got map[string]string) []string {
	var d []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			d = append(d, "missing "+p)
		} else if g != w {
			d = append(d, "differs "+p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			d = append(d, "extra "+p)
		}
	}
	return d
}

func sameTree(t *testing.T, want, got map[string]string) {
	t.Helper()
	if d := diffTrees(want, got); len(d) > 0 {
		t.Fatalf("trees differ: %v", d)
	}
}

// answers checks that the service runs and its login page shows version v.
func answers(t *testing.T, in *install.Installation, v string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := (&svc.Script{Argv: in.Control(), Dir: in.Root}).Status(ctx)
	if err != nil || st != svc.Running {
		t.Fatalf("service %s %v, want running", st, err)
	}
	if err := svc.CheckHealth(ctx, in.HealthURL()); err != nil {
		t.Fatal(err)
	}
	got, err := install.ReadVersionFile(in.VersionFile())
	if err != nil || got.String() != v {
		t.Fatalf("version file says %v (%v), want %s", got, err, v)
	}
}

// failingControl is a control script whose start fails, as a broken release's would.
const failingControl = "#!/bin/sh\ncase \"$1\" in status) exit 3;; start) echo 'OMFLOW: ImportError: No module named omflow.settings' >&2; exit 1;; *) exit 0;; esac\n"

// deadControl is a control script that claims to start but serves nothing.
const deadControl = "#!/bin/sh\nexit 0\n"

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// openSession opens the installation of opt for one operation.
func openSession(t testing.TB, opt Options) *Session {
	t.Helper()
	s, err := Open(context.Background(), opt)
	if err != nil {
		t.Fatalf("open %s: %v", opt.Root, err)
	}
	return s
}
