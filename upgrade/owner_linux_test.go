package upgrade

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
)

// wwwData is Apache's user on Debian, who runs OMFLOW under mod_wsgi.
func wwwData(t *testing.T) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup("www-data")
	if err != nil {
		t.Fatalf("user www-data: %v (Debian has it; create it with useradd -r www-data)", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// ownerModes lists owner, group, mode and content of every entry under root but the run
// logs, the upgrade's state and the demo service's files.
func ownerModes(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch rel {
		case "logs", install.StateDirName, demo.RunDirName:
			return filepath.SkipDir
		case ".":
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		s := fmt.Sprintf("%d:%d %v", st.Uid, st.Gid, fi.Mode())
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			s += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[rel] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An installation Apache's mod_wsgi runs as www-data, updated by root: every file the
// update replaces, the database copy and the copy saved beside settings.py keep the
// owner and mode of what they replace, new files and folders take their folder's owner,
// and www-data can still write its database; the rollback gives back the originals as
// they were.
func TestUpdateKeepsWwwDataOwners(t *testing.T) {
	testneed.Root(t, "giving an installation to www-data")
	www, wwwg := wwwData(t)
	// www-data must reach the installation to write its database.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	in := newDemo(t, dir, "1.1.6.1")
	root := in.Root
	mine := edit(t, demoSettings(), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Europe/Paris'")
	theirs := edit(t, demoSettings(), "TIME_ZONE = 'Asia/Taipei'", "TIME_ZONE = 'Asia/Tokyo'")
	writeRel(t, root, settingsRel, mine)
	writeRel(t, root, "server/omflow/tool.sh", "echo old\n")
	if err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, www, wwwg)
	}); err != nil {
		t.Fatal(err)
	}
	for rel, mode := range map[string]fs.FileMode{
		"server": 0o750, "server/omflow": 0o750, "server/db.omflow": 0o660, settingsRel: 0o600,
		"server/omflow/views.py": 0o640, "server/omflow/tool.sh": 0o640,
	} {
		if err := os.Chmod(filepath.Join(root, filepath.FromSlash(rel)), mode); err != nil {
			t.Fatal(err)
		}
	}
	// The code's folder is root's, readable by www-data's group: new files there are so
	// too, while the files it holds stay each its own owner's.
	if err := os.Chown(filepath.Join(root, "server", "omflow"), 0, wwwg); err != nil {
		t.Fatal(err)
	}

	p := buildPackage(t, release{version: "1.1.6.3",
		files: map[string]string{
			settingsRel:                        theirs,
			"server/omflow/views.py":           "# 1.1.6.3\n",
			"server/omflow/tool.sh":            "#!/bin/sh\necho new\n",
			"server/omflow/newmod.py":          "# new in 1.1.6.3\n",
			"server/omflow/newapp/__init__.py": "",
		},
		modes: map[string]os.FileMode{"server/omflow/tool.sh": 0o755},
		base:  map[string]string{settingsRel: demoSettings()}})
	opt := options(t, in)
	opt.ConfigChoice = "new"
	var before map[string]string
	opt.Hook = func(point string, _ int) {
		if point != "stopped" {
			return
		}
		// The site wrote to its database after the copy: it is copied again after the
		// stop, and that copy must be www-data's too.
		f, err := os.OpenFile(filepath.Join(root, "server", "db.omflow"), os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString("written after the copy\n")
			f.Close()
		}
		if err != nil {
			t.Error(err)
		}
		before = ownerModes(t, root)
	}
	if _, err := openSession(t, opt).Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	answers(t, in, "1.1.6.3")

	type owner struct{ uid, gid int }
	wwwOwn, rootOwn := owner{www, wwwg}, owner{0, wwwg}
	tests := []struct {
		path    string
		owner   owner
		mode    fs.FileMode
		content string // a part of it
	}{
		{"server/db.omflow", wwwOwn, 0o660, "written after the copy"},
		{settingsRel, wwwOwn, 0o600, "Asia/Tokyo"},
		{settingsRel + ".omflow-old", wwwOwn, 0o600, "Europe/Paris"},
		{"server/omflow/views.py", wwwOwn, 0o640, "1.1.6.3"},
		{"server/omflow/tool.sh", wwwOwn, 0o750, "echo new"},
		{"server/omflow/newmod.py", rootOwn, 0o644, "new in 1.1.6.3"},
		{"server/omflow/newapp", rootOwn, fs.ModeDir | 0o755, ""},
		{"server/omflow/newapp/__init__.py", rootOwn, 0o644, ""},
	}
	for _, tt := range tests {
		p := filepath.Join(root, filepath.FromSlash(tt.path))
		fi, err := os.Lstat(p)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if got := (owner{int(st.Uid), int(st.Gid)}); got != tt.owner || fi.Mode() != tt.mode {
			t.Errorf("%s is %v %v, want %v %v", tt.path, got, fi.Mode(), tt.owner, tt.mode)
		}
		if tt.content != "" && !strings.Contains(readRel(t, root, tt.path), tt.content) {
			t.Errorf("%s lacks %q", tt.path, tt.content)
		}
	}
	// What the issue saw: www-data may write its database after an update (opened for
	// writing, nothing written: a changed database would refuse the rollback).
	w := exec.Command("/bin/sh", "-c", ": >> db.omflow")
	w.Dir = filepath.Join(root, "server")
	w.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(www), Gid: uint32(wwwg)}}
	if out, err := w.CombinedOutput(); err != nil {
		t.Fatalf("www-data cannot write its database after the update: %v %s", err, out)
	}

	if _, err := openSession(t, options(t, in)).Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	answers(t, in, "1.1.6.1")
	after := ownerModes(t, root)
	if d := diffTrees(before, after); len(d) > 0 {
		t.Fatalf("the rollback did not give back the originals as they were: %v\nbefore %v\nafter  %v", d, before, after)
	}
}
