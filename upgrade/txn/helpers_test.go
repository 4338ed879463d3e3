package txn

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// entry is what a user sees of one path in a tree.
type entry struct {
	mode fs.FileMode
	data string // file content or link target
}

// snapshot reads a tree, leaving out the state folder and any top-level names in skip.
func snapshot(t testing.TB, root string, skip ...string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		top := strings.SplitN(rel, "/", 2)[0]
		if top == ".omflow-upgrade" || contains(skip, top) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{mode: fi.Mode()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.data, err = os.Readlink(p)
		case fi.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(p)
			e.data = string(b)
		}
		out[rel] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// diffTrees describes how got differs from want ("" when equal).
func diffTrees(got, want map[string]entry) string {
	var b bytes.Buffer
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		var line string
		switch {
		case !gok:
			line = fmt.Sprintf("missing %s", k)
		case !wok:
			line = fmt.Sprintf("extra %s", k)
		case g.mode != w.mode:
			line = fmt.Sprintf("%s: mode %v, want %v", k, g.mode, w.mode)
		case g.data != w.data:
			line = fmt.Sprintf("%s: content %q, want %q", k, short(g.data), short(w.data))
		default:
			continue
		}
		if n++; n <= 20 {
			b.WriteString(line + "\n")
		}
	}
	if n > 20 {
		fmt.Fprintf(&b, "... %d differences in all\n", n)
	}
	return b.String()
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// file is one file of a fixture: content and mode.
type file struct {
	data string
	mode fs.FileMode
}

func writeTree(t testing.TB, root string, files map[string]file) {
	t.Helper()
	for p, f := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(full, []byte(f.data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// filesOneByOne makes the test's runs move every file alone, as on Windows: the test is
// about the moves of single files (swap.go moves most of a fixture's folders whole).
func filesOneByOne(t testing.TB) {
	was := folderSwaps
	folderSwaps = false
	t.Cleanup(func() { folderSwaps = was })
}

// fixture is an installation with an update to apply: the old tree, the new payload and
// the ops between them.
type fixture struct {
	root, state string
	old, new    map[string]file // the trees before and after
	ops         []Op
}

// newFixture builds a tree of changed, new, deleted, untouched files, with new nested
// folders, modes and an executable.
func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{root: root, state: filepath.Join(root, ".omflow-upgrade"), old: map[string]file{}, new: map[string]file{}}
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("server/app%d/mod%03d.py", i%7, i)
		switch i % 4 {
		case 0: // replaced, and its mode changes
			f.old[p] = file{data: "old " + p, mode: 0o644}
			f.new[p] = file{data: "new " + p, mode: 0o755}
			f.ops = append(f.ops, Op{Kind: Replace, Path: p})
		case 1: // deleted
			f.old[p] = file{data: "old " + p, mode: 0o600}
			f.ops = append(f.ops, Op{Kind: Delete, Path: p})
		case 2: // added, some into new nested folders
			if i%8 == 2 {
				p = fmt.Sprintf("server/new%d/deep/er/add%03d.py", i%3, i)
			}
			f.new[p] = file{data: "added " + p, mode: 0o640}
			f.ops = append(f.ops, Op{Kind: Add, Path: p})
		case 3: // untouched
			f.old[p] = file{data: "same " + p}
			f.new[p] = f.old[p]
		}
	}
	f.old["server/omflow_server"] = file{data: "#!/bin/sh\nold\n", mode: 0o755}
	f.new["server/omflow_server"] = file{data: "#!/bin/sh\nnew\n", mode: 0o755}
	f.ops = append(f.ops, Op{Kind: Replace, Path: "server/omflow_server"})
	writeTree(t, root, f.old)
	return f
}

// stage writes the payload (Add and Replace ops) into dir.
func (f *fixture) stage(t testing.TB, dir string) {
	t.Helper()
	payload := map[string]file{}
	for _, op := range f.ops {
		if op.Kind != Delete {
			payload[op.Path] = f.new[op.Path]
		}
	}
	writeTree(t, dir, payload)
}

func treeOf(files map[string]file) map[string]entry {
	out := map[string]entry{}
	for p, f := range files {
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		out[p] = entry{mode: mode, data: f.data}
		for d := filepath.ToSlash(filepath.Dir(p)); d != "."; d = filepath.ToSlash(filepath.Dir(d)) {
			out[d] = entry{mode: fs.ModeDir | 0o755}
		}
	}
	return out
}

// leftovers lists what a finished run left in the state folder besides kept backups.
func leftovers(t testing.TB, state string) []string {
	t.Helper()
	var out []string
	ents, err := os.ReadDir(state)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), discardedPrefix) {
			continue // a rollback's taken-out files, for the next run (TestApplyCommitUndo)
		}
		if e.Name() == "backups" {
			bs, _ := os.ReadDir(filepath.Join(state, "backups"))
			for _, b := range bs {
				if _, err := os.Stat(filepath.Join(state, "backups", b.Name(), journalName)); err != nil {
					out = append(out, "backups/"+b.Name())
				}
			}
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

// wantNew is the tree after the update: the new files, and every folder the old tree had
// (an update leaves emptied folders in place).
func (f *fixture) wantNew(oldSnap map[string]entry) map[string]entry {
	want := treeOf(f.new)
	for p, e := range oldSnap {
		if e.mode.IsDir() {
			want[p] = e
		}
	}
	return want
}

// applied begins a run, stages the payload, prepares and applies it: the files are in
// place, the run is not committed.
func (f *fixture) applied(t testing.TB, opt Options) *Txn {
	t.Helper()
	tx, err := Begin(t.Context(), f.state, f.root, opt)
	if err != nil {
		t.Fatal(err)
	}
	f.stage(t, tx.StagingDir())
	if err := tx.Prepare(t.Context(), Plan{Ops: f.ops}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Apply(t.Context()); err != nil {
		t.Fatal(err)
	}
	return tx
}

// applyAll runs a whole update: Begin, stage, Prepare, Apply, Commit, Close.
func (f *fixture) applyAll(t testing.TB, from, to string, opt Options) (string, error) {
	t.Helper()
	ctx := t.Context()
	tx, err := Begin(ctx, f.state, f.root, opt)
	if err != nil {
		return "", err
	}
	defer tx.Close()
	f.stage(t, tx.StagingDir())
	if err := tx.Prepare(ctx, Plan{From: from, To: to, Ops: f.ops, Data: []byte(`{"service":"omflow"}`)}); err != nil {
		return "", err
	}
	if err := tx.Apply(ctx); err != nil {
		return "", err
	}
	if err := tx.Mark(ctx, "healthy"); err != nil {
		return "", err
	}
	dir, err := tx.Commit(ctx)
	if err != nil {
		return "", err
	}
	return dir, tx.Close()
}

// recoverAll brings an interrupted run to an end without asking: a committed run is
// finished, anything else is rolled back. It returns the journal it found (nil when no
// run was pending). Callers that may finish a run (its health check had passed) use
// Resume instead.
func recoverAll(ctx context.Context, stateDir, root string, opt Options) (*Journal, error) {
	t, err := Resume(ctx, stateDir, root, opt)
	if err != nil || t == nil {
		return nil, err
	}
	j := t.Journal()
	if j.Phase == PhaseCommitted {
		_, err = t.Commit(ctx)
	} else {
		err = t.Rollback(ctx, nil)
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	return j, err
}

// undoLast undoes the newest kept backup not yet undone, in one call (BeginUndo, Apply,
// Commit, Close). It returns the undo's journal: From and To are the versions it went
// from and back to, Undoes the backup's id, Data the undone run's caller data.
func undoLast(ctx context.Context, stateDir, root string, opt Options) (*Journal, error) {
	t, err := BeginUndo(ctx, stateDir, root, opt)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	j := t.Journal()
	if err := t.Apply(ctx); err != nil {
		return nil, err
	}
	if _, err := t.Commit(ctx); err != nil {
		return nil, err
	}
	return j, t.Close()
}
