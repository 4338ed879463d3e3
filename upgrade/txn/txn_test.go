package txn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

func TestApplyCommitUndo(t *testing.T) {
	f := newFixture(t, 60)
	v1 := snapshot(t, f.root)
	var logs []string
	var lastDone, lastTotal int64
	opt := Options{Command: "apply", Logf: func(format string, a ...any) { logs = append(logs, fmt.Sprintf(format, a...)) },
		Progress: func(d, n int64) { lastDone, lastTotal = d, n }}
	dir, err := f.applyAll(t, "1.1.6.1", "1.1.6.3", opt)
	if err != nil {
		t.Fatal(err)
	}
	v2 := snapshot(t, f.root)
	if d := diffTrees(v2, f.wantNew(v1)); d != "" {
		t.Fatalf("tree after apply differs from the new tree:\n%s", d)
	}
	if lastDone != lastTotal || lastTotal != int64(len(f.ops)) {
		t.Errorf("progress ended at %d/%d, want %d/%d", lastDone, lastTotal, len(f.ops), len(f.ops))
	}
	if dir != filepath.Join(f.state, "backups", filepath.Base(dir)) {
		t.Errorf("backup location %q not under the state folder", dir)
	}
	if l := leftovers(t, f.state); len(l) > 0 {
		t.Errorf("left in the state folder: %v", l)
	}
	// The backup holds the originals, byte for byte.
	orig, err := os.ReadFile(filepath.Join(dir, "files", "server", "omflow_server"))
	if err != nil || string(orig) != f.old["server/omflow_server"].data {
		t.Errorf("backup of server/omflow_server: %q, %v", orig, err)
	}

	// A second update on top: v2 -> v3 changes one file.
	f2 := &fixture{root: f.root, state: f.state, new: map[string]file{"server/omflow_server": {data: "v3", mode: 0o700}},
		ops: []Op{{Kind: Replace, Path: "server/omflow_server"}}}
	if _, err := f2.applyAll(t, "1.1.6.3", "1.1.6.4", Options{}); err != nil {
		t.Fatal(err)
	}
	bs, err := Backups(f.state)
	if err != nil || len(bs) != 2 || bs[0].To != "1.1.6.4" || bs[1].To != "1.1.6.3" || bs[0].Undone {
		t.Fatalf("Backups = %+v, %v", bs, err)
	}

	// Undo the newest, then the older one: each gives back the tree before it exactly.
	j, err := undoLast(t.Context(), f.state, f.root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if j.To != "1.1.6.3" || j.Undoes != bs[0].ID {
		t.Errorf("undo journal: to %s undoes %s", j.To, j.Undoes)
	}
	if d := diffTrees(snapshot(t, f.root), v2); d != "" {
		t.Fatalf("tree after the first undo differs from v2:\n%s", d)
	}
	if _, err := undoLast(t.Context(), f.state, f.root, Options{}); err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(snapshot(t, f.root), v1); d != "" {
		t.Fatalf("tree after the second undo differs from v1:\n%s", d)
	}
	bs, _ = Backups(f.state)
	if len(bs) != 2 || !bs[0].Undone || !bs[1].Undone {
		t.Errorf("backups after both undos: %+v", bs)
	}
	// The files the last undo took out (v2's) wait, renamed aside, for the next run; the
	// first undo's were removed when the second began.
	l := discardedFolders(t, f.state)
	if len(l) != 1 {
		t.Fatalf("%s folders in the state folder: %v, want one", discardedPrefix, l)
	}
	if b, err := os.ReadFile(filepath.Join(f.state, l[0], "files", "server", "omflow_server")); err != nil || string(b) != f.new["server/omflow_server"].data {
		t.Errorf("the discarded folder holds %q, %v; want v2's server/omflow_server", b, err)
	}
	_, err = undoLast(t.Context(), f.state, f.root, Options{})
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "nothing-to-undo" {
		t.Fatalf("third undo: %v, want refused nothing-to-undo", err)
	}
	if d := diffTrees(snapshot(t, f.root), v1); d != "" {
		t.Fatalf("a refused undo changed the tree:\n%s", d)
	}
	if l := append(leftovers(t, f.state), discardedFolders(t, f.state)...); len(l) > 0 {
		t.Errorf("left in the state folder after the next run began: %v", l)
	}
}

// discardedFolders are the state folder's folders of files rollbacks took out.
func discardedFolders(t *testing.T, state string) []string {
	t.Helper()
	ents, err := os.ReadDir(state)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), discardedPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestUndoWithoutBackup(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, ".omflow-upgrade")
	_, err := undoLast(t.Context(), state, root, Options{})
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "nothing-to-undo" || outcome.ExitCode(err) != outcome.ExitRefused {
		t.Fatalf("UndoLast on a fresh installation: %v", err)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("a refused undo left the state folder: %v", err)
	}
}

func TestKeepPrunesOldBackups(t *testing.T) {
	f := newFixture(t, 8)
	var ids []string
	for i := 0; i < 4; i++ {
		data := fmt.Sprintf("v%d", i)
		g := &fixture{root: f.root, state: f.state, new: map[string]file{"server/x.cfg": {data: data}},
			ops: []Op{{Kind: Replace, Path: "server/x.cfg"}}}
		if i == 0 {
			g.ops[0].Kind = Add
		}
		dir, err := g.applyAll(t, fmt.Sprint(i), fmt.Sprint(i+1), Options{Keep: 2})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, filepath.Base(dir))
	}
	bs, err := Backups(f.state)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, b.ID)
	}
	if strings.Join(got, ",") != ids[3]+","+ids[2] {
		t.Errorf("kept %v, want the two newest of %v", got, ids)
	}
	for _, id := range ids[:2] {
		if _, err := os.Stat(filepath.Join(f.state, "backups", id)); !os.IsNotExist(err) {
			t.Errorf("pruned backup %s still on disk", id)
		}
	}
}

// failures in the middle of Apply: the tree must come back exactly.
func TestApplyFailureRollsBack(t *testing.T) {
	cases := []struct {
		name string
		// at is called before op i; it breaks something.
		at func(t *testing.T, f *fixture, tx *Txn, i int, cancel context.CancelFunc)
		// failAt is the op index where the failure is injected.
		failAt func(n int) int
	}{
		{"staged file missing", func(t *testing.T, f *fixture, tx *Txn, i int, _ context.CancelFunc) {
			op := tx.j.Ops[i]
			if err := os.Remove(filepath.Join(tx.StagingDir(), filepath.FromSlash(op.Path))); err != nil {
				t.Fatal(err)
			}
		}, func(n int) int { return n / 2 }},
		{"cancelled", func(t *testing.T, f *fixture, tx *Txn, i int, cancel context.CancelFunc) { cancel() },
			func(n int) int { return n / 3 }},
		{"cancelled at the last file", func(t *testing.T, f *fixture, tx *Txn, i int, cancel context.CancelFunc) { cancel() },
			func(n int) int { return n - 1 }},
		{"folder turned read-only", func(t *testing.T, f *fixture, tx *Txn, i int, _ context.CancelFunc) {
			makeReadOnly(t, filepath.Join(f.root, "server", "app3"))
		}, func(n int) int { return 5 }},
	}
	filesOneByOne(t) // TestFolderMoveFailureRollsBack fails folder moves
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 60)
			// Ops on a staged file must exist at the failure point for "staged file missing".
			f.ops = append([]Op{{Kind: Replace, Path: "server/omflow_server"}}, f.ops[:len(f.ops)-1]...)
			v1 := snapshot(t, f.root)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var tx *Txn
			at := -1
			opt := Options{Hook: func(point string, i int) {
				if point == "op" && i == at {
					c.at(t, f, tx, i, cancel)
				}
			}}
			tx, err := Begin(ctx, f.state, f.root, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			f.stage(t, tx.StagingDir())
			if err := tx.Prepare(ctx, Plan{From: "1", To: "2", Ops: f.ops}); err != nil {
				t.Fatal(err)
			}
			at = c.failAt(len(tx.j.Ops))
			if c.name == "staged file missing" {
				for tx.j.Ops[at].Kind == Delete {
					at++
				}
			}
			err = tx.Apply(ctx)
			var failed *outcome.FailedError
			if !errors.As(err, &failed) || !failed.RolledBack {
				t.Fatalf("Apply: %v, want a FailedError rolled back", err)
			}
			if outcome.ExitCode(err) != outcome.ExitRolledBack {
				t.Errorf("exit code %d", outcome.ExitCode(err))
			}
			if d := diffTrees(snapshot(t, f.root), v1); d != "" {
				t.Fatalf("tree after rollback differs from the old tree:\n%s", d)
			}
			if err := tx.Close(); err != nil {
				t.Fatal(err)
			}
			if l := leftovers(t, f.state); len(l) > 0 {
				t.Errorf("left in the state folder: %v", l)
			}
			if p, _ := Pending(f.state); p != nil {
				t.Errorf("a journal is pending after the rollback: %+v", p)
			}
		})
	}
}

// Preflight refusals change nothing.
func TestPreflightRefuses(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, f *fixture, staging string)
		reason outcome.Reason
	}{
		{"read-only folder", func(t *testing.T, f *fixture, _ string) {
			makeReadOnly(t, filepath.Join(f.root, "server", "app2"))
		}, "read-only"},
		{"folder where a file is expected", func(t *testing.T, f *fixture, staging string) {
			writeTree(t, f.root, map[string]file{"server/lib/inside": {data: "x"}})
			f.ops = append(f.ops, Op{Kind: Replace, Path: "server/lib"})
			writeTree(t, staging, map[string]file{"server/lib": {data: "x"}})
		}, "target"},
		{"file where a folder is expected", func(t *testing.T, f *fixture, staging string) {
			f.ops = append(f.ops, Op{Kind: Add, Path: "server/omflow_server/x"})
		}, "target"},
		{"staged copy missing", func(t *testing.T, f *fixture, staging string) {
			f.ops = append(f.ops, Op{Kind: Add, Path: "server/never-staged.py"})
		}, "staging"},
		{"disk space", func(t *testing.T, f *fixture, staging string) {}, "disk-space"},
		{"folder on another file system", func(t *testing.T, f *fixture, staging string) {
			mountTmpfs(t, filepath.Join(f.root, "server", "mnt"))
			f.ops = append(f.ops, Op{Kind: Add, Path: "server/mnt/x.py"})
			writeTree(t, staging, map[string]file{"server/mnt/x.py": {data: "x"}})
		}, "cross-device"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 24)
			tx, err := Begin(t.Context(), f.state, f.root, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			f.stage(t, tx.StagingDir())
			c.setup(t, f, tx.StagingDir())
			v1 := snapshot(t, f.root)
			if c.reason == "disk-space" {
				tx.Close()
				_, err = Begin(t.Context(), f.state, f.root, Options{NeedBytes: 1 << 62})
			} else {
				err = tx.Prepare(t.Context(), Plan{Ops: f.ops})
			}
			var refused *outcome.RefusedError
			if !errors.As(err, &refused) || refused.Reason != c.reason {
				t.Fatalf("got %v, want refused %q", err, c.reason)
			}
			if d := diffTrees(snapshot(t, f.root), v1); d != "" {
				t.Fatalf("a refusal changed the tree:\n%s", d)
			}
			tx.Close()
			if l := leftovers(t, f.state); len(l) > 0 {
				t.Errorf("left in the state folder: %v", l)
			}
		})
	}
}

func TestBadPaths(t *testing.T) {
	for _, p := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", `a\b`, ".omflow-upgrade/journal.json", ".OMFLOW-UPGRADE/journal.json", ".Omflow-Upgrade", ".omflow-upgrade"} {
		t.Run(p, func(t *testing.T) {
			root := t.TempDir()
			tx, err := Begin(t.Context(), filepath.Join(root, ".omflow-upgrade"), root, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			err = tx.Prepare(t.Context(), Plan{Ops: []Op{{Kind: Delete, Path: p}}})
			if outcome.ExitCode(err) != outcome.ExitUnusable {
				t.Fatalf("path %q: %v, want unusable", p, err)
			}
		})
	}
}

// Health check failed after Apply: the caller rolls back with its cause.
func TestRollbackAfterApplied(t *testing.T) {
	f := newFixture(t, 40)
	v1 := snapshot(t, f.root)
	ctx := t.Context()
	tx := f.applied(t, Options{})
	defer tx.Close()
	cause := errors.New("health check: GET /accounts/login/: 502")
	err := tx.Rollback(ctx, cause)
	var failed *outcome.FailedError
	if !errors.As(err, &failed) || !failed.RolledBack || !errors.Is(err, cause) {
		t.Fatalf("Rollback: %v", err)
	}
	if d := diffTrees(snapshot(t, f.root), v1); d != "" {
		t.Fatalf("tree after rollback:\n%s", d)
	}
	tx.Close()
	if l := leftovers(t, f.state); len(l) > 0 {
		t.Errorf("left in the state folder: %v", l)
	}
}

// Close without Commit rolls back: an early return in the orchestration is safe.
func TestCloseRollsBack(t *testing.T) {
	f := newFixture(t, 20)
	v1 := snapshot(t, f.root)
	tx := f.applied(t, Options{})
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(snapshot(t, f.root), v1); d != "" {
		t.Fatalf("tree after Close:\n%s", d)
	}
	if _, err := os.Stat(f.state); !os.IsNotExist(err) {
		t.Errorf("state folder left: %v", leftovers(t, f.state))
	}
}

// A rollback that cannot finish says which files are left and how to finish by hand;
// recover finishes it once the cause is gone.
func TestRollbackFailsThenRecover(t *testing.T) {
	for _, oneByOne := range []bool{false, true} {
		t.Run(fmt.Sprintf("files one by one %v", oneByOne), func(t *testing.T) {
			if oneByOne {
				filesOneByOne(t)
			}
			testRollbackFailsThenRecover(t)
		})
	}
}

func testRollbackFailsThenRecover(t *testing.T) {
	f := newFixture(t, 60)
	v1 := snapshot(t, f.root)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var undo func()
	blocked := filepath.Join(f.root, "server", "app3")
	opt := Options{Hook: func(point string, i int) {
		switch {
		case point == "op" && i == 40:
			cancel()
		case (point == "rollback-op" || point == "rollback-swap") && undo == nil:
			// Folders moved whole go back first, then single files.
			undo = makeReadOnly(t, blocked)
		}
	}}
	tx, err := Begin(ctx, f.state, f.root, opt)
	if err != nil {
		t.Fatal(err)
	}
	f.stage(t, tx.StagingDir())
	if err := tx.Prepare(ctx, Plan{From: "1", To: "2", Ops: f.ops}); err != nil {
		t.Fatal(err)
	}
	err = tx.Apply(ctx)
	var failed *outcome.FailedError
	if !errors.As(err, &failed) || failed.RolledBack || outcome.ExitCode(err) != outcome.ExitBroken {
		t.Fatalf("Apply: %v, want a failed rollback", err)
	}
	// The message names a file of the blocked folder, the backup folder and the way out.
	for _, want := range []string{"server/app3/", filepath.Join(tx.BackupDir(), "files"), "recover"} {
		if !strings.Contains(failed.Manual, want) {
			t.Errorf("Manual %q does not say %q", failed.Manual, want)
		}
	}
	t.Logf("the administrator reads: %v", err)
	tx.Close()
	if j, _ := Pending(f.state); j == nil || j.Phase != PhaseRollingBack {
		t.Fatalf("pending after a failed rollback: %+v", j)
	}
	undo()
	if _, err := recoverAll(t.Context(), f.state, f.root, Options{}); err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(snapshot(t, f.root), v1); d != "" {
		t.Fatalf("tree after recover:\n%s", d)
	}
	if l := leftovers(t, f.state); len(l) > 0 {
		t.Errorf("left in the state folder: %v", l)
	}
}

// A run whose rollback began without being journaled (say, the disk was full) must not
// be finished: the files, not the journal, show that some are back.
func TestHalfRolledBackRunIsNotFinished(t *testing.T) {
	f := newFixture(t, 40)
	v1 := snapshot(t, f.root)
	tx := f.applied(t, Options{})
	if err := tx.Mark(t.Context(), "healthy"); err != nil {
		t.Fatal(err)
	}
	// The process dies here (its lock goes with it) after one original went back.
	tx.lock.release()
	tx.lock = nil
	op := tx.j.Ops[0]
	target, backup, _ := tx.paths(op)
	if err := os.Rename(backup, target); err != nil {
		t.Fatal(err)
	}

	r, err := Resume(t.Context(), f.state, f.root, Options{})
	if err != nil || r == nil {
		t.Fatalf("Resume: %v, %v", r, err)
	}
	defer r.Close()
	if !r.Journal().CanFinish() {
		t.Fatal("the journal alone should say the run can finish (the premise of this test)")
	}
	if r.CanFinish() {
		t.Fatal("CanFinish: true, with an original back in place")
	}
	if _, err := r.Commit(t.Context()); err == nil {
		t.Fatal("Commit finished a half rolled back run")
	}
	if err := r.Rollback(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(snapshot(t, f.root), v1); d != "" {
		t.Fatalf("tree after rollback:\n%s", d)
	}
}

// Something removed a folder after Apply: the rollback still puts the originals back.
func TestRollbackRemakesRemovedFolder(t *testing.T) {
	f := newFixture(t, 40)
	tx := f.applied(t, Options{})
	defer tx.Close()
	if err := os.RemoveAll(filepath.Join(f.root, "server", "app0")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, op := range f.ops {
		if op.Kind == Add || !strings.HasPrefix(op.Path, "server/app0/") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(f.root, filepath.FromSlash(op.Path)))
		if err != nil || string(b) != f.old[op.Path].data {
			t.Errorf("%s after rollback: %q, %v", op.Path, b, err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no original in server/app0 to check")
	}
}

// Listing backups twice in one process reads a kept journal again once it was replaced
// (readJournalHead remembers the heads it read): an undo in between shows.
func TestBackupsSeeAnUndoSinceTheLastListing(t *testing.T) {
	f := newFixture(t, 8)
	if _, err := f.applyAll(t, "1", "2", Options{}); err != nil {
		t.Fatal(err)
	}
	bs, err := Backups(f.state)
	if err != nil || len(bs) != 1 || bs[0].Undone {
		t.Fatalf("Backups after the update: %+v, %v", bs, err)
	}
	if _, err := undoLast(t.Context(), f.state, f.root, Options{}); err != nil {
		t.Fatal(err)
	}
	bs, err = Backups(f.state)
	if err != nil || len(bs) != 1 || !bs[0].Undone {
		t.Fatalf("Backups after the undo: %+v, %v, want the backup undone", bs, err)
	}
}
