//go:build unix

package txn

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/outcome"
)

// The state folder holds what root writes before its renames (staged files, the
// database's copies, backups, journal). An account that can write in the installation's
// root plants it as a link to a folder of its choosing, or makes it its own or writable
// to all: the update refuses before it writes anything there.
func TestStateFolderOthersCanWriteIsRefused(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, state, outside string)
	}{
		{"a link to a folder elsewhere", func(t *testing.T, state, outside string) {
			if err := os.Symlink(outside, state); err != nil {
				t.Fatal(err)
			}
		}},
		{"writable by all", func(t *testing.T, state, _ string) {
			if err := os.Mkdir(state, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(state, 0o777); err != nil {
				t.Fatal(err)
			}
		}},
		{"another account's", func(t *testing.T, state, _ string) {
			testneed.Root(t, "giving a folder to another account")
			if err := os.Mkdir(state, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(state, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 8)
			outside := t.TempDir()
			tt.plant(t, f.state, outside)
			before := snapshot(t, f.root)
			tx, err := Begin(t.Context(), f.state, f.root, Options{})
			if err == nil {
				tx.Close()
				t.Fatal("Begin took a state folder others can write")
			}
			var refused *outcome.RefusedError
			if !errors.As(err, &refused) || refused.Reason != "state-folder" {
				t.Fatalf("got %v, want a state-folder refusal", err)
			}
			if d := diffTrees(snapshot(t, f.root), before); d != "" {
				t.Fatalf("the installation changed: %s", d)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Fatalf("root wrote %d names in the folder the link names", len(ents))
			}
		})
	}
	// The lock itself is not opened through a link.
	f := newFixture(t, 1)
	outside := t.TempDir()
	if err := os.Mkdir(f.state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "victim"), lockPath(f.state)); err != nil {
		t.Fatal(err)
	}
	if tx, err := Begin(t.Context(), f.state, f.root, Options{}); err == nil {
		tx.Close()
		t.Fatal("Begin locked through a link")
	}
	if _, err := os.Lstat(filepath.Join(outside, "victim")); !os.IsNotExist(err) {
		t.Fatalf("the lock was made through the link: %v", err)
	}
}
