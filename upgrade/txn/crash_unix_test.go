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
	}{
		{"before the journal", "journal", 0, -1, false, old, false},
		{"after the journal", "prepared", 0, -1, false, old, true},
		{"at op 0", "op", 0, -1, false, old, true},
		{"at op 1", "op", 1, -1, false, old, true},
		{"at op N/2", "op", n / 2, -1, false, old, true},
		{"at op N-1", "op", n - 1, -1, false, old, true},
		{"after applied, rolled back", "applied", 0, -1, false, old, true},
		{"after applied, finished", "applied", 0, -1, true, new, true},
		{"rollback, first op", "rollback-op", 0, n / 2, false, old, true},
		{"rollback, middle", "rollback-op", n / 4, n / 2, true, old, true},
		{"rollback, last op", "rollback-op", n - 1, n / 2, false, old, true},
		{"commit journaled", "commit", 0, -1, false, new, true},
		{"commit, before the journal goes", "commit-cleanup", 0, -1, false, new, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
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
				if _, err := Recover(t.Context(), state, root, Options{}); err != nil {
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
				if _, err := UndoLast(t.Context(), state, root, Options{}); err != nil {
					t.Fatal(err)
				}
				if d := diffTrees(snapshot(t, root), oldTree); d != "" {
					t.Fatalf("undo after recovery:\n%s", d)
				}
			}
		})
	}
}
