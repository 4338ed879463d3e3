package demo

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/version"
)

// The test binary serves the demo when started as the demo service.
func TestMain(m *testing.M) {
	if Main(os.Args) {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func newDemo(t *testing.T, v string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Create(ctx, Options{Root: filepath.Join(t.TempDir(), "omflow"), Version: version.MustParse(v)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command(filepath.Join(res.Root, "server", "omflow_server"), "stop").Run() })
	return res
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoServesItsVersionAndFollowsVersionFile(t *testing.T) {
	res := newDemo(t, "1.1.6.1")
	code, body := get(t, res.HealthURL)
	if code != 200 || !strings.Contains(body, "OMFLOW 1.1.6.1") {
		t.Fatalf("login page: %d %q", code, body)
	}
	// The service reads version.bin at every request, as OMFLOW does.
	in, err := install.Detect(res.Root, install.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := install.WriteFileAtomic(in.VersionFile(), install.FormatVersionFile(version.MustParse("1.1.6.3"), false), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, res.HealthURL); !strings.Contains(body, "OMFLOW 1.1.6.3") {
		t.Fatalf("after the version change: %q", body)
	}
}

func TestControlScriptStatusStartStop(t *testing.T) {
	res := newDemo(t, "1.1.6.1")
	in, _ := install.Detect(res.Root, install.Config{})
	m := &svc.Script{Argv: in.Control(), Dir: res.Root}
	ctx := context.Background()
	steps := []struct {
		do   func(context.Context) error
		want svc.State
	}{
		{nil, svc.Running},
		{m.Stop, svc.Stopped},
		{m.Stop, svc.Stopped}, // stopping a stopped service is fine
		{m.Start, svc.Running},
		{m.Start, svc.Running},
	}
	for i, s := range steps {
		if s.do != nil {
			if err := s.do(ctx); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if st, err := m.Status(ctx); err != nil || st != s.want {
			t.Fatalf("step %d: status %s %v, want %s", i, st, err, s.want)
		}
		healthy := svc.CheckHealth(quick(t), in.HealthURL()) == nil
		if healthy != (s.want == svc.Running) {
			t.Fatalf("step %d: healthy=%v with service %s", i, healthy, s.want)
		}
	}
}

func quick(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func TestTwoDemosDoNotClash(t *testing.T) {
	a, b := newDemo(t, "1.1.6.1"), newDemo(t, "1.2.0.0")
	if a.Port == b.Port {
		t.Fatalf("same port %d", a.Port)
	}
	if _, body := get(t, b.HealthURL); !strings.Contains(body, "1.2.0.0") {
		t.Fatalf("second demo: %q", body)
	}
	if _, body := get(t, a.HealthURL); !strings.Contains(body, "1.1.6.1") {
		t.Fatalf("first demo: %q", body)
	}
}

func TestServiceWritesNothingUnderServerAndSurvivesARealTree(t *testing.T) {
	res := newDemo(t, "1.1.6.1")
	server := filepath.Join(res.Root, "server")
	before := snapshot(t, server)
	// A real OMFLOW tree copied over server/: its own manage.py and settings.py.
	os.WriteFile(filepath.Join(server, "manage.py"), []byte("#!/usr/bin/env python\nimport sys\n"), 0o755)
	os.WriteFile(filepath.Join(server, "omflow", "settings.py"), []byte("SECRET_KEY = 'real'\n"), 0o644)
	before["manage.py"], before["omflow/settings.py"] = "x", "x"
	in, _ := install.Detect(res.Root, install.Config{})
	m := &svc.Script{Argv: in.Control(), Dir: res.Root}
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, res.HealthURL); code != 200 {
		t.Fatalf("login page %d", code)
	}
	after := snapshot(t, server)
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("the service wrote %s under server/", p)
		}
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = "x"
		}
		return nil
	})
	return out
}

func TestCreateRefusesANonEmptyRoot(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "keep.txt"), []byte("mine"), 0o644)
	_, err := Create(context.Background(), Options{Root: root, Version: version.MustParse("1.1.6.1")})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "keep.txt")); string(b) != "mine" {
		t.Fatal("the existing file was touched")
	}
}
