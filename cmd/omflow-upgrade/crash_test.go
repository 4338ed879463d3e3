package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKilledApplyRecovers kills apply (as kill -9 or a power cut would) at many points,
// between steps and inside the file loop, then runs recover: every time the tree is
// exactly the old one or exactly the new one, the version file says which, and the
// service runs.
func TestKilledApplyRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: many real runs")
	}
	f := newFixture(t, "1.1.6.1")
	const n = 40
	src := filepath.Join(f.dir, "src40")
	for i := 0; i < n; i++ {
		p := filepath.Join(src, "server", "omflow", fmt.Sprintf("mod%02d", i%5), fmt.Sprintf("f%02d.py", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(fmt.Sprintf("# file %d of 1.1.6.3\n", i)), 0o644)
	}
	os.WriteFile(filepath.Join(src, "server", "omflow", "views.py"), []byte("# 1.1.6.3\n"), 0o644)
	os.WriteFile(filepath.Join(f.dir, "delete.txt"), []byte("server/omflow/urls.py\n"), 0o644)
	pkgPath := filepath.Join(f.dir, "omflow_update_40.tar.gz")
	if r := cmd(t, "pack", "-key", f.key, "-version", "1.1.6.3", "-delete", filepath.Join(f.dir, "delete.txt"), "-out", pkgPath, src); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	apply := []string{"apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-json", pkgPath}
	// The same release with a control script that cannot start: apply rolls back, and
	// is killed during that rollback.
	os.WriteFile(filepath.Join(src, "server", "omflow_server"), []byte("#!/bin/sh\ncase \"$1\" in start) exit 1;; status) exit 3;; esac\n"), 0o755)
	brokenPath := filepath.Join(f.dir, "omflow_update_broken.tar.gz")
	if r := cmd(t, "pack", "-key", f.key, "-version", "1.1.6.3", "-out", brokenPath, src); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}

	oldTree := tree(t, f.root)
	if r := cmd(t, apply...); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	newTree := tree(t, f.root)
	if r := cmd(t, "rollback", "-root", f.root); r.code != 0 {
		t.Fatalf("rollback: %+v", r)
	}
	sameTree(t, oldTree, tree(t, f.root))

	ops := n + 2 // the payload (version.bin is written apart) and the delete
	points := []string{"journal", "prepared", "stopped", "op:0", "op:1", fmt.Sprintf("op:%d", ops/2), fmt.Sprintf("op:%d", ops-1),
		"applied", "started", "healthy", "version-written", "commit", "commit-cleanup",
		"broken/rollback-op:0", "broken/rollback-op:1", fmt.Sprintf("broken/rollback-op:%d", ops/2)}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			args := apply
			if p, ok := strings.CutPrefix(point, "broken/"); ok {
				args, point = append(apply[:len(apply)-1:len(apply)-1], brokenPath), p
			}
			child := exec.Command(os.Args[0], args...)
			child.Env = append(os.Environ(), childEnv+"=1", killEnv+"="+point)
			out, err := child.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
				t.Fatalf("apply was not killed at %s: %v\n%s", point, err, out)
			}
			st := cmd(t, "status", "-root", f.root, "-json").json(t)
			pending := st["pending"] != nil
			r := cmd(t, "recover", "-root", f.root, "-json")
			if r.code != 0 {
				t.Fatalf("recover: %+v", r)
			}
			rec := r.json(t)
			if pending && rec["action"] == "none" {
				t.Fatalf("status showed a pending run but recover found none")
			}
			got := tree(t, f.root)
			st = cmd(t, "status", "-root", f.root, "-json").json(t)
			if st["service"] != "running" || st["healthy"] != true || st["pending"] != nil {
				t.Fatalf("after recover: %v", st)
			}
			switch {
			case len(diff(oldTree, got)) == 0:
				if st["version"] != "1.1.6.1" {
					t.Fatalf("old tree but version %v", st["version"])
				}
			case len(diff(newTree, got)) == 0:
				if st["version"] != "1.1.6.3" {
					t.Fatalf("new tree but version %v", st["version"])
				}
				if r := cmd(t, "rollback", "-root", f.root); r.code != 0 {
					t.Fatalf("rollback: %+v", r)
				}
				sameTree(t, oldTree, tree(t, f.root))
			default:
				t.Fatalf("mixed tree after recover: vs old %v; vs new %v", diff(oldTree, got), diff(newTree, got))
			}
			if _, err := os.Stat(filepath.Join(f.root, ".omflow-upgrade", "journal.json")); err == nil {
				t.Fatal("journal left after recover")
			}
		})
	}
}

func diff(want, got map[string]string) []string {
	var d []string
	for p, w := range want {
		if got[p] != w {
			d = append(d, p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			d = append(d, "+"+p)
		}
	}
	if len(d) > 6 {
		d = append(d[:6], fmt.Sprintf("... %d in all", len(d)))
	}
	return d
}
