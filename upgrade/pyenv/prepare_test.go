package pyenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scriptWheel is a package with a console script: pip writes bin/omtool with a shebang
// naming the venv's python, the file Prepare must point at the final path.
var scriptWheel = wheelSpec{Name: "omtool", Version: "1.0", Files: map[string]string{
	"omtool_cli.py":                         "import sys\n\ndef main():\n    print('omtool prefix=' + sys.prefix)\n",
	"omtool-1.0.dist-info/entry_points.txt": "[console_scripts]\nomtool = omtool_cli:main\n",
}}

// assertNoPrepared checks that neither the prepared venv nor a moved old venv is left.
func (s *standIn) assertNoPrepared(t *testing.T) {
	t.Helper()
	for _, p := range []string{filepath.Join(s.root, "python"+NewVenvSuffix), filepath.Join(s.backup, "python")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s is left (%v)", p, err)
		}
	}
}

// TestRebuildPrepareThenSwap: Prepare makes the whole new venv beside the old one without
// touching it or django.conf; Swap (by another Rebuild, as after the journal) is renames
// and django.conf; the venv then names only its final path; Undo puts everything back.
func TestRebuildPrepareThenSwap(t *testing.T) {
	needPython(t)
	t.Parallel()
	ctx := context.Background()
	s := newStandIn(t, append(append([]wheelSpec{}, releaseWheels...), scriptWheel))
	writeDistInfo(t, sitePackagesDir(t, filepath.Join(s.root, "python")), "omtool", "1.0")
	s.venvSum = treeSum(t, filepath.Join(s.root, "python"))
	r, _ := NewRebuild(s.options(t))
	if err := r.Prepare(ctx); err != nil {
		t.Fatalf("Prepare: %v (failed: %+v)", err, r.Install.Failed)
	}
	// The service's venv and Apache's config are untouched: the downtime has not begun.
	s.assertAsBefore(t)
	newVenv := filepath.Join(s.root, "python"+NewVenvSuffix)
	if r.NewVenv() != newVenv {
		t.Fatalf("NewVenv = %s, want %s", r.NewVenv(), newVenv)
	}
	if m, _ := filepath.Glob(filepath.Join(newVenv, "lib", "python3*", "site-packages", "[Dd]jango-4.2.dist-info")); len(m) != 1 {
		t.Fatalf("the prepared venv lacks Django 4.2")
	}
	if !strings.HasPrefix(r.WSGIModule, filepath.Join(s.root, "python")+string(filepath.Separator)) {
		t.Errorf("WSGIModule = %s, want the final path under ROOT/python", r.WSGIModule)
	}
	// Every text file of the venv that named it names the final path already.
	for _, f := range append([]string{filepath.Join(newVenv, "pyvenv.cfg")}, globAll(newVenv, "bin/*")...) {
		if fi, err := os.Lstat(f); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if b, _ := os.ReadFile(f); strings.Contains(string(b), NewVenvSuffix) {
			t.Errorf("%s still names the prepared path:\n%s", f, b)
		}
	}

	r2, _ := NewRebuild(s.options(t))
	if err := r2.Swap(ctx); err != nil {
		t.Fatalf("Swap: %v", err)
	}
	venv := filepath.Join(s.root, "python")
	if _, err := os.Lstat(newVenv); !os.IsNotExist(err) {
		t.Errorf("the prepared venv is still beside: %v", err)
	}
	if got := treeSum(t, filepath.Join(s.backup, "python")); got != s.venvSum {
		t.Errorf("the old venv in the backup differs from the original")
	}
	out, err := exec.Command(filepath.Join(venv, "bin", "omtool")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "omtool prefix="+venv {
		t.Errorf("bin/omtool after Swap: %v %s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(venv, "bin", "activate")); !strings.Contains(string(b), "VIRTUAL_ENV="+venv+"\n") {
		t.Errorf("bin/activate does not name %s:\n%s", venv, b)
	}
	conf, _ := os.ReadFile(s.conf)
	if !strings.Contains(string(conf), `"`+r2.WSGIModule+`"`) || r2.WSGIModule != r.WSGIModule || len(r2.Changes) == 0 {
		t.Errorf("django.conf after Swap (module %s, prepared %s):\n%s", r2.WSGIModule, r.WSGIModule, conf)
	}

	r3, _ := NewRebuild(s.options(t))
	if err := r3.Undo(ctx); err != nil {
		t.Fatalf("Undo: %v", err)
	}
	s.assertAsBefore(t)
	s.assertNoPrepared(t)
}

// TestRebuildUndoBeforeOrAmidSwap: a Prepare never swapped (the run refused, the stop
// failed, a crash before the stop) and a Swap killed between its two renames are both
// undone: the old venv and django.conf back, the prepared venv gone.
func TestRebuildUndoBeforeOrAmidSwap(t *testing.T) {
	needPython(t)
	t.Parallel()
	ctx := context.Background()
	for _, amid := range []bool{false, true} {
		s := newStandIn(t, releaseWheels)
		r, _ := NewRebuild(s.options(t))
		if err := r.Prepare(ctx); err != nil {
			t.Fatalf("Prepare: %v", err)
		}
		if amid {
			// Swap's first rename done, not its second.
			if err := os.Rename(filepath.Join(s.root, "python"), filepath.Join(s.backup, "python")); err != nil {
				t.Fatal(err)
			}
		}
		r2, _ := NewRebuild(s.options(t))
		if err := r2.Undo(ctx); err != nil {
			t.Fatalf("Undo (amid=%v): %v", amid, err)
		}
		s.assertAsBefore(t)
		s.assertNoPrepared(t)
	}
}

// TestRebuildSwapWithoutPrepare refuses: nothing was prepared.
func TestRebuildSwapWithoutPrepare(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "omflow")
	mustWrite(t, filepath.Join(root, "python", "keep"), "the venv")
	r, _ := NewRebuild(RebuildOptions{Root: root, BackupDir: filepath.Join(dir, "backup"), NoApache: true})
	if err := r.Swap(context.Background()); err == nil || !strings.Contains(err.Error(), "nothing prepared") {
		t.Errorf("Swap without Prepare = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "python", "keep")); err != nil {
		t.Errorf("the venv was touched: %v", err)
	}
	// Something else where the new venv goes is not removed, nor built over.
	mustWrite(t, filepath.Join(root, "python"+NewVenvSuffix, "mine"), "not ours")
	if err := r.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "in the way") {
		t.Errorf("Prepare over a foreign folder = %v", err)
	}
	if err := r.Undo(context.Background()); err != nil {
		t.Errorf("Undo = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "python"+NewVenvSuffix, "mine")); err != nil {
		t.Errorf("a foreign folder was removed: %v", err)
	}
}

func globAll(dir, pattern string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
	return m
}
