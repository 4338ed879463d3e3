//go:build unix

package txn

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

// The service account may write in some folders of the installation (uploads/, the
// database's folder): it replaces one of them, or a folder below it, by a link to a
// folder elsewhere (or elsewhere inside). An update that adds, replaces or deletes a file
// there is refused before anything changes: root renames and deletes nothing through
// a link.
func TestNothingIsWrittenThroughALinkedFolder(t *testing.T) {
	tests := []struct {
		name string
		link string // root-relative; points at the outside folder unless inside is set
		in   string // the link's target inside the installation, "" for outside
		op   Op
	}{
		{"a file added into a linked folder", "server/uploads", "", Op{Kind: Add, Path: "server/uploads/x.py"}},
		{"a file deleted from a linked folder", "server/uploads", "", Op{Kind: Delete, Path: "server/uploads/victim"}},
		{"a file replaced below a linked folder", "server/uploads", "", Op{Kind: Replace, Path: "server/uploads/sub/victim"}},
		{"a linked folder inside the installation", "server/alias", "app0", Op{Kind: Add, Path: "server/alias/x.py"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 8)
			outside := t.TempDir()
			writeTree(t, outside, map[string]file{"victim": {data: "root's"}, "sub/victim": {data: "root's"}})
			target := outside
			if tt.in != "" {
				target = tt.in
			}
			if err := os.Symlink(target, filepath.Join(f.root, filepath.FromSlash(tt.link))); err != nil {
				t.Fatal(err)
			}
			f.ops = []Op{tt.op}
			tx, err := Begin(t.Context(), f.state, f.root, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			if tt.op.Kind != Delete {
				writeTree(t, tx.StagingDir(), map[string]file{tt.op.Path: {data: "planted through the link"}})
			}
			before, beforeOut := snapshot(t, f.root), snapshot(t, outside)
			err = tx.Prepare(t.Context(), Plan{Ops: f.ops})
			if err == nil {
				err = tx.Apply(t.Context())
			}
			var refused *outcome.RefusedError
			if !errors.As(err, &refused) || refused.Reason != "target" {
				t.Fatalf("got %v, want refused \"target\"", err)
			}
			if d := diffTrees(snapshot(t, outside), beforeOut); d != "" {
				t.Fatalf("root changed the folder the link names:\n%s", d)
			}
			if d := diffTrees(snapshot(t, f.root), before); d != "" {
				t.Fatalf("a refusal changed the installation:\n%s", d)
			}
		})
	}
}

// Days after an update that replaced files in a folder the service account writes in,
// that account swaps the folder for a link to root's: the rollback, which puts the
// originals back by rename, refuses instead of writing through the link.
func TestUndoWritesNothingThroughALinkPlantedSince(t *testing.T) {
	f := newFixture(t, 0)
	writeTree(t, f.root, map[string]file{"server/uploads/victim": {data: "old"}})
	f.new = map[string]file{"server/uploads/victim": {data: "new"}}
	f.ops = []Op{{Kind: Replace, Path: "server/uploads/victim"}}
	if _, err := f.applyAll(t, "1.1.6.1", "1.1.6.3", Options{}); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeTree(t, outside, map[string]file{"victim": {data: "root's"}})
	uploads := filepath.Join(f.root, "server", "uploads")
	if err := os.Rename(uploads, uploads+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, uploads); err != nil {
		t.Fatal(err)
	}
	before, beforeOut := snapshot(t, f.root), snapshot(t, outside)
	_, err := undoLast(t.Context(), f.state, f.root, Options{})
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "target" {
		t.Fatalf("got %v, want refused \"target\"", err)
	}
	if d := diffTrees(snapshot(t, outside), beforeOut); d != "" {
		t.Fatalf("the rollback wrote in the folder the link names:\n%s", d)
	}
	if d := diffTrees(snapshot(t, f.root), before); d != "" {
		t.Fatalf("a refused rollback changed the installation:\n%s", d)
	}
}
