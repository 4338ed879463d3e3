//go:build unix

package txn

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

// The test binary doubles as the helper process: with TXN_HELPER set it runs one
// transaction (or holds the lock) instead of the tests, so a test can SIGKILL a real
// process at a chosen instant.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TXN_HELPER"); mode != "" {
		if err := helperMain(mode); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helperMain(mode string) error {
	root, state := os.Getenv("TXN_ROOT"), os.Getenv("TXN_STATE")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	switch mode {
	case "hold":
		tx, err := Begin(ctx, state, root, Options{Command: "apply (test lock holder)"})
		if err != nil {
			return err
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin) // hold until the parent closes stdin or kills us
		return tx.Close()
	case "tree":
		opt := Options{Command: "apply (tree helper)", Hook: killAt()}
		tx, err := Begin(ctx, state, root, opt)
		if err != nil {
			return err
		}
		defer tx.Close()
		if err := tx.PrepareTree(ctx, Plan{From: "1.1.6.1", To: "1.2.0.0"}); err != nil {
			return err
		}
		for i, step := range patchSteps(root) {
			opt.Hook("patch", i)
			if err := step(); err != nil {
				return err
			}
		}
		if err := tx.Apply(ctx); err != nil {
			return err
		}
		if _, err := tx.Commit(ctx); err != nil {
			return err
		}
		return tx.Close()
	case "undo":
		_, err := undoLast(ctx, state, root, Options{Command: "rollback (helper)", Hook: killAt()})
		return err
	case "recover":
		_, err := recoverAll(ctx, state, root, Options{Command: "recover (helper)", Hook: killAt()})
		return err
	case "crash":
		point := os.Getenv("TXN_POINT")
		at, _ := strconv.Atoi(os.Getenv("TXN_AT"))
		failAt := -1
		if s := os.Getenv("TXN_FAIL_AT"); s != "" {
			failAt, _ = strconv.Atoi(s)
		}
		var ops []Op
		b, err := os.ReadFile(os.Getenv("TXN_OPS"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &ops); err != nil {
			return err
		}
		if os.Getenv("TXN_ONE_BY_ONE") == "1" {
			folderSwaps = false
		}
		opt := Options{Command: "apply (crash helper)", Hook: func(p string, i int) {
			if p == "op" && i == failAt {
				cancel()
			}
			if p == point && i == at {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		}}
		tx, err := Begin(ctx, state, root, opt)
		if err != nil {
			return err
		}
		defer tx.Close()
		if err := copyTree(os.Getenv("TXN_PAYLOAD"), tx.StagingDir()); err != nil {
			return err
		}
		if err := tx.Prepare(ctx, Plan{From: "1.1.6.1", To: "1.1.6.3", Ops: ops, Data: json.RawMessage(`{"service":"omflow_server"}`)}); err != nil {
			return err
		}
		if err := tx.Apply(ctx); err != nil {
			return err
		}
		if err := tx.Mark(ctx, "healthy"); err != nil {
			return err
		}
		if _, err := tx.Commit(ctx); err != nil {
			return err
		}
		return tx.Close()
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// killAt is a hook that SIGKILLs the process at TXN_POINT, index TXN_AT.
func killAt() func(string, int) {
	point := os.Getenv("TXN_POINT")
	at, _ := strconv.Atoi(os.Getenv("TXN_AT"))
	return func(p string, i int) {
		if p == point && i == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
}

// copyTree copies regular files with their modes (the test's stand-in for extraction).
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, b, fi.Mode()); err != nil {
			return err
		}
		return os.Chmod(out, fi.Mode())
	})
}

func helperCmd(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"TXN_HELPER=" + mode}, env...)...)
	return cmd
}

func TestLockHeldByLiveProcess(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, ".omflow-upgrade")
	cmd := helperCmd(t, "hold", "TXN_ROOT="+root, "TXN_STATE="+state)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}

	h, held, err := LockInfo(state)
	if err != nil || !held || h.PID != cmd.Process.Pid || h.Command != "apply (test lock holder)" {
		t.Fatalf("LockInfo = %+v, %v, %v; want held by pid %d", h, held, err, cmd.Process.Pid)
	}
	_, err = Begin(t.Context(), state, root, Options{Command: "apply"})
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "lock-held" {
		t.Fatalf("Begin while held: %v, want refused lock-held", err)
	}
	for _, want := range []string{"pid " + strconv.Itoa(cmd.Process.Pid), "apply (test lock holder)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %q", err, want)
		}
	}

	// The holder dies without a word: its lock goes with it.
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	killed = true
	stdin.Close()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, not by SIGKILL", cmd.ProcessState)
	}
	if _, held, _ := LockInfo(state); held {
		t.Errorf("LockInfo says a dead holder still holds the lock")
	}
	tx, err := Begin(t.Context(), state, root, Options{Command: "apply"})
	if err != nil {
		t.Fatalf("Begin after the holder died: %v", err)
	}
	h, held, _ = LockInfo(state)
	if !held || h.PID != os.Getpid() {
		t.Errorf("LockInfo after take-over = %+v, %v", h, held)
	}
	tx.Close()
}

// TestCrash kills a real process applying a 200-file update at many instants, then
// recovers: every trial must end with exactly the old or the new tree, nothing mixed,
// nothing left over but kept backups.
func TestCrash(t *testing.T) {
	base := newFixture(t, 200)
	payload := t.TempDir()
	base.stage(t, payload)
	opsFile := filepath.Join(t.TempDir(), "ops.json")
	b, _ := json.Marshal(base.ops)
	if err := os.WriteFile(opsFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	oldTree := snapshot(t, base.root)
	newTree := base.wantNew(oldTree)
	n := len(base.ops)

	type result int
	const (
		old result = iota
		new
	)
	cases := []struct {
		name   string
		point  string
		at     int
		failAt int    // cancel at this op, so a rollback runs (-1: none)
		finish bool   // the caller finishes a run that reached applied
		want   result // the tree recovery must give
		// pending is whether a journal must be found after the crash.
		pending bool
		// only: the case's point is reached only when files move one by one ("files")
		// or when folders move whole ("folders"); "" for both.
		only string
	}{
		{"before the journal", "journal", 0, -1, false, old, false, ""},
		{"after the journal", "prepared", 0, -1, false, old, true, ""},
		{"at op 0", "op", 0, -1, false, old, true, ""},
		{"at op 1", "op", 1, -1, false, old, true, ""},
		{"at op N/2", "op", n / 2, -1, false, old, true, ""},
		{"inside a replace", "op-mid", 0, -1, false, old, true, "files"},
		{"inside a delete", "op-mid", 1, -1, false, old, true, "files"},
		{"inside an add", "op-mid", 2, -1, false, old, true, ""},
		{"inside op N-1", "op-mid", n - 1, -1, false, old, true, ""},
		{"at op N-1", "op", n - 1, -1, false, old, true, ""},
		{"after applied, rolled back", "applied", 0, -1, false, old, true, ""},
		{"after applied, finished", "applied", 0, -1, true, new, true, ""},
		{"rollback, first op", "rollback-op", 0, n / 2, false, old, true, ""},
		{"rollback, middle", "rollback-op", n / 4, n / 2, true, old, true, ""},
		{"rollback, last op", "rollback-op", n - 1, n / 2, false, old, true, ""},
		{"between a folder's two moves", "swap-mid", 0, -1, false, old, true, "folders"},
		{"between the third folder's moves", "swap-mid", 2, -1, false, old, true, "folders"},
		{"carrying into the second folder", "swap-carry", 1, -1, false, old, true, "folders"},
		{"rollback, carrying back", "rollback-swap-carry", 3, n / 2, false, old, true, "folders"},
		{"rollback, between a folder's moves back", "rollback-swap-mid", 1, n / 2, false, old, true, "folders"},
		{"rollback, after the folders, finish refused", "rollback-op", 0, n / 2, true, old, true, "folders"},
		{"commit journaled", "commit", 0, -1, false, new, true, ""},
		{"commit, before the journal goes", "commit-cleanup", 0, -1, false, new, true, ""},
	}
	for _, moves := range []string{"folders", "files"} {
		for _, c := range cases {
			if c.only != "" && c.only != moves {
				continue // its point is not on this way of moving
			}
			t.Run(moves+"/"+c.name, func(t *testing.T) {
				root := t.TempDir()
				if err := copyTree(base.root, root); err != nil {
					t.Fatal(err)
				}
				if d := diffTrees(snapshot(t, root), oldTree); d != "" {
					t.Fatalf("fixture copy differs:\n%s", d)
				}
				state := filepath.Join(root, ".omflow-upgrade")
				env := []string{"TXN_ROOT=" + root, "TXN_STATE=" + state, "TXN_PAYLOAD=" + payload, "TXN_OPS=" + opsFile,
					"TXN_POINT=" + c.point, "TXN_AT=" + strconv.Itoa(c.at), "TXN_FAIL_AT=" + strconv.Itoa(c.failAt)}
				if moves == "files" {
					env = append(env, "TXN_ONE_BY_ONE=1")
				}
				cmd := helperCmd(t, "crash", env...)
				out, err := cmd.CombinedOutput()
				ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
				if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("helper did not die by SIGKILL at %s %d: %v\n%s", c.point, c.at, err, out)
				}

				j, err := Pending(state)
				if err != nil {
					t.Fatal(err)
				}
				if (j != nil) != c.pending {
					t.Fatalf("Pending after the crash: %v, want pending %v", j != nil, c.pending)
				}
				if j != nil && (j.From != "1.1.6.1" || j.To != "1.1.6.3" || string(j.Data) != `{"service":"omflow_server"}`) {
					t.Errorf("pending journal: %s -> %s, data %s", j.From, j.To, j.Data)
				}

				if c.pending {
					// A new run must not start on top of an interrupted one.
					_, err := Begin(t.Context(), state, root, Options{})
					var refused *outcome.RefusedError
					if !errors.As(err, &refused) || refused.Reason != "interrupted-run" {
						t.Fatalf("Begin with a run pending: %v, want refused interrupted-run", err)
					}
				}
				tx, err := Resume(t.Context(), state, root, Options{})
				if err != nil {
					t.Fatalf("Resume: %v", err)
				}
				if tx != nil {
					jj := tx.Journal()
					switch {
					case jj.Phase == PhaseCommitted:
						_, err = tx.Commit(t.Context())
					case c.finish && jj.CanFinish():
						_, err = tx.Commit(t.Context())
					default:
						err = tx.Rollback(t.Context(), nil)
					}
					if err != nil {
						t.Fatalf("recovery: %v", err)
					}
					if err := tx.Close(); err != nil {
						t.Fatal(err)
					}
				} else {
					// No journal: nothing changed; the next run cleans the dead run's staging.
					if _, err := recoverAll(t.Context(), state, root, Options{}); err != nil {
						t.Fatal(err)
					}
					tx, err := Begin(t.Context(), state, root, Options{})
					if err != nil {
						t.Fatalf("Begin after a crash before the journal: %v", err)
					}
					tx.Close()
				}

				got := snapshot(t, root)
				want, name := oldTree, "old"
				if c.want == new {
					want, name = newTree, "new"
				}
				if d := diffTrees(got, want); d != "" {
					t.Fatalf("after recovery the tree is not the %s tree:\n%s", name, d)
				}
				if l := leftovers(t, state); len(l) > 0 {
					t.Errorf("left in the state folder: %v", l)
				}
				bs, _ := Backups(state)
				if (c.want == new) != (len(bs) == 1) {
					t.Errorf("kept backups %+v, want one only after a finished update", bs)
				}
				if c.want == new {
					// And the kept backup undoes it to the old tree.
					if _, err := undoLast(t.Context(), state, root, Options{}); err != nil {
						t.Fatal(err)
					}
					if d := diffTrees(snapshot(t, root), oldTree); d != "" {
						t.Fatalf("undo after recovery:\n%s", d)
					}
				}
			})
		}
	}
}

// runKilled runs the helper and checks that it died by SIGKILL (so the instant under
// test was reached).
func runKilled(t *testing.T, mode, root, point string, at int, env ...string) {
	t.Helper()
	env = append(env, "TXN_ROOT="+root, "TXN_STATE="+filepath.Join(root, ".omflow-upgrade"),
		"TXN_POINT="+point, "TXN_AT="+strconv.Itoa(at))
	cmd := helperCmd(t, mode, env...)
	out, err := cmd.CombinedOutput()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s helper did not die by SIGKILL at %s %d: %v\n%s", mode, point, at, err, out)
	}
}

// TestCrashUndoTreeRecover kills undos, legacy-patch runs and recoveries themselves.
func TestCrashUndoTreeRecover(t *testing.T) {
	type trees struct {
		root, skip    string
		before, after map[string]entry
	}
	// An installation updated by a committed apply: the undo goes from after to before.
	applied := func(t *testing.T) trees {
		f := newFixture(t, 200)
		v1 := snapshot(t, f.root)
		if _, err := f.applyAll(t, "1.1.6.1", "1.1.6.3", Options{}); err != nil {
			t.Fatal(err)
		}
		return trees{root: f.root, before: snapshot(t, f.root), after: v1}
	}
	// An installation patched in place under a committed full backup.
	patched := func(t *testing.T) trees {
		root := legacyTree(t)
		orig := snapshot(t, root, "logs")
		tx, err := Begin(t.Context(), filepath.Join(root, ".omflow-upgrade"), root, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Close()
		if err := tx.PrepareTree(t.Context(), Plan{From: "1.1.6.1", To: "1.2.0.0"}); err != nil {
			t.Fatal(err)
		}
		patchInPlace(t, root)
		if err := tx.Apply(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		return trees{root: root, skip: "logs", before: snapshot(t, root, "logs"), after: orig}
	}
	// A fresh installation for a legacy patch: the run goes from before to after.
	legacy := func(t *testing.T) trees {
		root := legacyTree(t)
		other := legacyTree(t)
		patchInPlace(t, other)
		return trees{root: root, skip: "logs", before: snapshot(t, root, "logs"), after: snapshot(t, other, "logs")}
	}
	type kill struct {
		mode, point string
		at          int
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T) trees
		kills  []kill // helpers run one after the other, each killed
		after  bool   // recovery must give the "after" tree (else "before")
		undone bool   // a kept backup must be marked undone
	}{
		{"undo at op 0", applied, []kill{{"undo", "op", 0}}, false, false},
		{"undo at op N/2", applied, []kill{{"undo", "op", 100}}, false, false},
		{"undo after applied", applied, []kill{{"undo", "applied", 0}}, false, false},
		{"undo committed", applied, []kill{{"undo", "commit", 0}}, true, true},
		{"undo, before the journal goes", applied, []kill{{"undo", "commit-cleanup", 0}}, true, true},
		{"legacy patch, copy done", legacy, []kill{{"tree", "tree-copied", 0}}, false, false},
		{"legacy patch, first step", legacy, []kill{{"tree", "patch", 0}}, false, false},
		{"legacy patch, middle", legacy, []kill{{"tree", "patch", 5}}, false, false},
		{"legacy patch, applied", legacy, []kill{{"tree", "applied", 0}}, false, false},
		{"legacy patch, committed", legacy, []kill{{"tree", "commit", 0}}, true, false},
		{"legacy patch, recovery killed too", legacy, []kill{{"tree", "patch", 6}, {"recover", "tree-swap", 1}}, false, false},
		{"undo of a full backup, swapping", patched, []kill{{"undo", "tree-swap", 1}}, false, false},
		{"undo of a full backup, applied", patched, []kill{{"undo", "applied", 0}}, false, false},
		{"undo of a full backup, committed", patched, []kill{{"undo", "commit", 0}}, true, true},
		{"recovery killed mid-rollback", func(t *testing.T) trees {
			f := newFixture(t, 200)
			v1 := snapshot(t, f.root)
			payload := t.TempDir()
			f.stage(t, payload)
			opsFile := filepath.Join(t.TempDir(), "ops.json")
			b, _ := json.Marshal(f.ops)
			os.WriteFile(opsFile, b, 0o644)
			runKilled(t, "crash", f.root, "op", 150, "TXN_PAYLOAD="+payload, "TXN_OPS="+opsFile)
			return trees{root: f.root, before: v1, after: f.wantNew(v1)}
		}, []kill{{"recover", "rollback-op", 70}, {"recover", "rollback-op", 0}}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := c.setup(t)
			state := filepath.Join(tr.root, ".omflow-upgrade")
			for _, k := range c.kills {
				runKilled(t, k.mode, tr.root, k.point, k.at)
			}
			if _, err := recoverAll(t.Context(), state, tr.root, Options{}); err != nil {
				t.Fatalf("Recover: %v", err)
			}
			want, name := tr.before, "before"
			if c.after {
				want, name = tr.after, "after"
			}
			var skip []string
			if tr.skip != "" {
				skip = append(skip, tr.skip)
			}
			if d := diffTrees(snapshot(t, tr.root, skip...), want); d != "" {
				t.Fatalf("after recovery the tree is not the %q tree:\n%s", name, d)
			}
			if l := leftovers(t, state); len(l) > 0 {
				t.Errorf("left in the state folder: %v", l)
			}
			bs, _ := Backups(state)
			undone := false
			for _, b := range bs {
				undone = undone || b.Undone
			}
			if undone != c.undone {
				t.Errorf("backups %+v: undone %v, want %v", bs, undone, c.undone)
			}
			if c.kills[0].mode == "undo" && !c.after {
				// The undo was rolled back: the backup it took its originals from is whole
				// again, and undoes the update.
				if _, err := undoLast(t.Context(), state, tr.root, Options{}); err != nil {
					t.Fatalf("undo again after the recovery: %v", err)
				}
				if d := diffTrees(snapshot(t, tr.root, skip...), tr.after); d != "" {
					t.Fatalf("undo again after the recovery:\n%s", d)
				}
			}
		})
	}
}

// While a Replace runs, the target path always holds a whole file: the original until the
// new one takes its name (a reader such as Apache never finds it missing).
func TestReplaceNeverLeavesPathEmpty(t *testing.T) {
	f := newFixture(t, 40)
	var tx *Txn
	checked := 0
	opt := Options{Hook: func(point string, i int) {
		if point != "op-mid" || tx.j.Ops[i].Kind != Replace {
			return
		}
		p := tx.j.Ops[i].Path
		b, err := os.ReadFile(filepath.Join(f.root, filepath.FromSlash(p)))
		if err != nil || string(b) != f.old[p].data {
			t.Errorf("inside the replace of %s the path holds %q, %v; want the original", p, b, err)
		}
		checked++
	}}
	tx, err := Begin(t.Context(), f.state, f.root, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	f.stage(t, tx.StagingDir())
	if err := tx.Prepare(t.Context(), Plan{Ops: f.ops}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Apply(t.Context()); err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no replace was checked")
	}
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}
