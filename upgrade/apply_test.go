package upgrade

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/txn"
)

func TestApplyThenRollback(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	os.Chmod(filepath.Join(in.Root, "server", "omflow", "urls.py"), 0o444) // a read-only file is replaced too
	old := snapshot(t, in.Root)
	p := buildPackage(t, release{
		version: "1.1.6.3",
		files: map[string]string{
			"server/omflow/views.py":           "# views of 1.1.6.3\n",
			"server/omflow/urls.py":            "urlpatterns = ['new']\n",
			"server/omflow/flow/engine.py":     "# new in 1.1.6.3\n",
			"server/omflow/flow/static/app.js": "console.log('1.1.6.3')\n",
			"server/omflow/syscom/version.bin": "version=1.1.6.3\nversion_num=001001006003\n",
			"server/bin/omflow-tool":           "#!/bin/sh\necho tool\n",
		},
		modes:  map[string]os.FileMode{"server/bin/omflow-tool": 0o755},
		delete: []string{"server/omflow/__init__.py"},
	})
	rep, err := openSession(t, options(t, in)).Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Version != "1.1.6.3" || rep.Backup == "" {
		t.Fatalf("report %+v", rep)
	}
	answers(t, in, "1.1.6.3")
	got := snapshot(t, in.Root)
	for rel, content := range map[string]string{
		"server/omflow/views.py":       "# views of 1.1.6.3\n",
		"server/omflow/flow/engine.py": "# new in 1.1.6.3\n",
	} {
		if b, _ := os.ReadFile(filepath.Join(in.Root, filepath.FromSlash(rel))); string(b) != content {
			t.Errorf("%s = %q", rel, b)
		}
	}
	if _, ok := got["server/omflow/__init__.py"]; ok {
		t.Error("deleted file still there")
	}
	if st, _ := os.Stat(filepath.Join(in.Root, "server", "bin", "omflow-tool")); st == nil || st.Mode().Perm() != 0o755 {
		t.Errorf("mode of the new tool: %v", st)
	}

	st, err := openSession(t, options(t, in)).Status(context.Background())
	if err != nil || len(st.Backups) != 1 || st.Pending != nil || !st.Healthy {
		t.Fatalf("status %+v %v", st, err)
	}

	rb, err := openSession(t, options(t, in)).Rollback(context.Background())
	if err != nil || rb.Version != "1.1.6.1" {
		t.Fatalf("rollback %+v %v", rb, err)
	}
	sameTree(t, old, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")

	_, err = openSession(t, options(t, in)).Rollback(context.Background())
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || outcome.ExitCode(err) != 3 {
		t.Fatalf("second rollback: %v, want a refusal (nothing left to undo)", err)
	}
}

func TestFailedUpdatesRollBack(t *testing.T) {
	tests := []struct {
		name    string
		control string
	}{
		{"service fails to start", failingControl},
		{"service starts but never answers", deadControl},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newDemo(t, "", "1.1.6.1")
			old := snapshot(t, in.Root)
			p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{
				"server/omflow/views.py": "# 1.1.6.3\n",
				"server/omflow/new.py":   "# new\n",
				"server/omflow_server":   tt.control,
			}, modes: map[string]os.FileMode{"server/omflow_server": 0o755}, delete: []string{"server/omflow/urls.py"}})
			rep, err := openSession(t, options(t, in)).Apply(context.Background(), p)
			if outcome.ExitCode(err) != outcome.ExitRolledBack {
				t.Fatalf("exit %d (%v), want 4", outcome.ExitCode(err), err)
			}
			if rep == nil || !rep.RolledBack || rep.Version != "1.1.6.1" {
				t.Fatalf("report %+v", rep)
			}
			sameTree(t, old, snapshot(t, in.Root))
			answers(t, in, "1.1.6.1")
			if j, _ := txn.Pending(in.StateDir()); j != nil {
				t.Fatalf("journal left: %+v", j)
			}
		})
	}
}

func TestCancelDuringApplyRollsBack(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	old := snapshot(t, in.Root)
	files := map[string]string{}
	for i := 0; i < 200; i++ {
		files[filepath.ToSlash(filepath.Join("server", "omflow", "gen", strings.Repeat("x", i%7+1)+string(rune('a'+i%26))+".py"))] = "# generated\n"
	}
	files["server/omflow/views.py"] = "# 1.1.6.3\n"
	p := buildPackage(t, release{version: "1.1.6.3", files: files})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := options(t, in)
	opt.Progress = &cancelAt{step: StepApply, cancel: cancel}
	_, err := openSession(t, opt).Apply(ctx, p)
	if outcome.ExitCode(err) != outcome.ExitRolledBack || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v (exit %d), want cancelled and rolled back", err, outcome.ExitCode(err))
	}
	sameTree(t, old, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}

// cancelAt cancels the run when a step begins.
type cancelAt struct {
	NoProgress
	step   string
	cancel func()
}

func (c *cancelAt) Step(name string) {
	if name == c.step {
		c.cancel()
	}
}

func TestLockHeldByAnotherRunRefuses(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	old := snapshot(t, in.Root)
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{"server/omflow/views.py": "# 1.1.6.3\n"}})
	held, err := txn.Begin(context.Background(), in.StateDir(), in.Root, txn.Options{Command: "apply other.tar.gz"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	r, err := openSession(t, options(t, in)).Check(context.Background(), p, false)
	if outcome.ExitCode(err) != outcome.ExitRefused || r.Reason != "lock-held" {
		t.Fatalf("check: %v reason %q", err, r.Reason)
	}
	_, err = openSession(t, options(t, in)).Apply(context.Background(), p)
	if outcome.ExitCode(err) != outcome.ExitRefused || !strings.Contains(err.Error(), "apply other.tar.gz") || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("apply: %v, want a refusal naming the holder", err)
	}
	sameTree(t, old, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}

func TestDiskFullMidUpdateRollsBack(t *testing.T) {
	testneed.Root(t, "mounting a small tmpfs")
	mnt := t.TempDir()
	if out, err := runCmd("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt); err != nil {
		testneed.Missing(t, "a tmpfs mount: %v %s", err, out)
	}
	t.Cleanup(func() { runCmd("umount", "-l", mnt) })
	in := newDemo(t, mnt, "1.1.6.1")
	old := snapshot(t, in.Root)
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{
		"server/omflow/views.py": "# 1.1.6.3\n",
		"server/omflow/new.py":   strings.Repeat("# new\n", 1000),
	}})
	opt := options(t, in)
	// Once the service is stopped, something else fills the disk.
	opt.Progress = &fillAt{step: StepApply, path: filepath.Join(mnt, "filler")}
	_, err := openSession(t, opt).Apply(context.Background(), p)
	os.Remove(filepath.Join(mnt, "filler"))
	if code := outcome.ExitCode(err); code != outcome.ExitRolledBack && err != nil {
		t.Fatalf("exit %d (%v), want success or 4", code, err)
	}
	if err == nil {
		// Renames need no room: the update may go through; then roll it back.
		if _, err := openSession(t, options(t, in)).Rollback(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sameTree(t, old, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}

// fillAt fills a file system when a step begins.
type fillAt struct {
	NoProgress
	step, path string
}

func (f *fillAt) Step(name string) {
	if name != f.step {
		return
	}
	fh, err := os.Create(f.path)
	if err != nil {
		return
	}
	defer fh.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := fh.Write(buf); err != nil {
			return
		}
	}
}

func TestDryRunAgreesWithApply(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{
		"server/omflow/views.py":   "# replaced\n",
		"server/omflow/new/add.py": "# added\n",
	}, delete: []string{"server/omflow/urls.py", "server/omflow/never-there.py"}})
	before := snapshot(t, in.Root)
	r, err := openSession(t, options(t, in)).Check(context.Background(), p, true)
	if err != nil {
		t.Fatal(err)
	}
	predicted := map[string]string{}
	for _, f := range r.Files {
		predicted[f.Path] = f.Action
	}
	if _, err := openSession(t, options(t, in)).Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, in.Root)
	actual := map[string]string{}
	for p, v := range after {
		if strings.HasSuffix(v, " ") || p == "server/omflow/syscom/version.bin" {
			continue // folders; the version file is written by every update
		}
		switch old, ok := before[p]; {
		case !ok:
			actual[p] = "add"
		case old != v:
			actual[p] = "replace"
		}
	}
	for p, v := range before {
		if _, ok := after[p]; !ok && !strings.HasSuffix(v, " ") {
			actual[p] = "delete"
		}
	}
	for p, a := range actual {
		if predicted[p] != a {
			t.Errorf("%s: apply did %s, check -files said %q", p, a, predicted[p])
		}
	}
	for p, a := range predicted {
		if actual[p] != a {
			t.Errorf("%s: check -files said %s, apply did %q", p, a, actual[p])
		}
	}
}
