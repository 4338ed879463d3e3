//go:build unix

package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/outcome"
)

// settings.py holds SECRET_KEY and the LDAP password, 0600. -config new saves the
// administrator's copy beside it as settings.py.omflow-old: the copy is as private as
// the original (its mode; its owner when the update runs as root), and a link the
// service account planted at that name beforehand (to a file of root's, or to a name
// elsewhere) is replaced, never written through.
func TestConfigNewKeepsTheAdministratorsCopyPrivate(t *testing.T) {
	mine := edit(t, demoSettings(), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Europe/Paris'")
	theirs := edit(t, demoSettings(), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Asia/Tokyo'")
	for _, plant := range []string{"", "victim", "made-by-root"} {
		t.Run("planted="+plant, func(t *testing.T) {
			in := newDemo(t, "", "1.1.6.1")
			writeRel(t, in.Root, settingsRel, mine)
			settings := filepath.Join(in.Root, filepath.FromSlash(settingsRel))
			if err := os.Chmod(settings, 0o600); err != nil {
				t.Fatal(err)
			}
			owner := os.Geteuid()
			if owner == 0 {
				owner = 65534 // the service account's file, updated by root
				if err := os.Chown(settings, owner, owner); err != nil {
					t.Fatal(err)
				}
			}
			outside := t.TempDir()
			if err := os.WriteFile(filepath.Join(outside, "victim"), []byte("root's\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if plant != "" {
				if err := os.Symlink(filepath.Join(outside, plant), settings+".omflow-old"); err != nil {
					t.Fatal(err)
				}
			}
			p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{settingsRel: theirs},
				base: map[string]string{settingsRel: demoSettings()}})
			beforeOut := snapshot(t, outside)
			opt := options(t, in)
			opt.ConfigChoice = "new"
			if _, err := openSession(t, opt).Apply(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			saved := settings + ".omflow-old"
			fi, err := os.Lstat(saved)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if fi.Mode() != 0o600 || int(st.Uid) != owner {
				t.Errorf("%s is %v uid %d, want 0600 uid %d as settings.py was", saved, fi.Mode(), st.Uid, owner)
			}
			if b, _ := os.ReadFile(saved); string(b) != mine {
				t.Errorf("%s is not the administrator's settings.py", saved)
			}
			if d := diffTrees(beforeOut, snapshot(t, outside)); len(d) > 0 {
				t.Fatalf("root wrote outside the installation through the planted link: %v", d)
			}
			if fi, err := os.Stat(settings); err != nil || fi.Mode().Perm()&fs.FileMode(0o077) != 0 {
				t.Fatalf("settings.py after the update: %v %v, want no rights for others", fi.Mode(), err)
			}
		})
	}
}

// The service account replaces its database, or settings.py, by a link to a file only
// root may read. The update would copy what the link names and put the copy in place
// as the account's own; it refuses (exit 2) instead, and nothing of the file the link
// names appears in the installation.
func TestPlantedLinkIsNeverCopied(t *testing.T) {
	testneed.Root(t, "making a link of another account's")
	for _, rel := range []string{"server/db.omflow", settingsRel} {
		t.Run(rel, func(t *testing.T) {
			in := newDemo(t, "", "1.1.6.1")
			// Made at run time: the demo's service is this test's binary, which holds
			// every literal of the test.
			mark := fmt.Sprintf("root:$6$%x", time.Now().UnixNano())
			secret := filepath.Join(t.TempDir(), "shadow")
			if err := os.WriteFile(secret, []byte(mark+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(in.Root, filepath.FromSlash(rel))
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(secret, p); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			pk := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{"server/omflow/views.py": "# 1.1.6.3\n"}})
			before := snapshot(t, in.Root)
			_, err := openSession(t, options(t, in)).Apply(context.Background(), pk)
			var unusable *outcome.UnusableError
			if !errors.As(err, &unusable) || !strings.Contains(err.Error(), "symbolic link") {
				t.Fatalf("got %v, want the planted link refused", err)
			}
			if d := diffTrees(before, snapshot(t, in.Root)); len(d) > 0 {
				t.Fatalf("the installation changed: %v", d)
			}
			filepath.WalkDir(in.Root, func(q string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if b, _ := os.ReadFile(q); strings.Contains(string(b), mark) {
						t.Errorf("%s holds the file the link names", q)
					}
				}
				return nil
			})
		})
	}
}
