package runlog

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestPruneKeepsTheNewestReadOnlyLogsAndEveryOther(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 25 {
		name := fmt.Sprintf("omflow-upgrade-check-20261204-10%04d-%d.log", i, 100+i)
		if i >= 5 {
			want = append(want, name)
		}
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	for _, name := range []string{"omflow-upgrade-apply-20261201-090000-1.log", "omflow-upgrade-rollback-20261201-090000-2.log",
		"omflow-upgrade-status-20261201-090000-3.log", "notes.txt"} {
		want = append(want, name)
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	if n := Prune(dir, []string{"check", "plan", "status"}, 20); n != 5 {
		t.Fatalf("removed %d logs, want the 5 oldest check logs", n)
	}
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("left %v\nwant %v", got, want)
	}
}

// snapshot is every name below dir with its content (a link: its target).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			out[rel] = "-> " + l
			return err
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			out[rel] = string(b)
			return err
		}
		out[rel] = "folder"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The service account plants a link at the name the next run's log will have (command,
// time and pid are predictable), pointing at a file of root's or at a name to be made
// outside the installation: root writes neither.
func TestOpenNeverWritesThroughALinkAtTheLogName(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.Local)
	clock = func() time.Time { return now }
	t.Cleanup(func() { clock = time.Now })
	for _, tt := range []struct{ name, target string }{
		{"an existing file", "shadow"},
		{"a name to be made", "cron.d-job"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			outside, root := t.TempDir(), t.TempDir()
			t.Setenv("TMPDIR", t.TempDir())
			if err := os.WriteFile(filepath.Join(outside, "shadow"), []byte("root:secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			logs := filepath.Join(root, "logs")
			if err := os.Mkdir(logs, 0o777); err != nil {
				t.Fatal(err)
			}
			planted := filepath.Join(logs, fmt.Sprintf("omflow-upgrade-apply-%s-%d.log", now.Format("20060102-150405"), os.Getpid()))
			if err := os.Symlink(filepath.Join(outside, tt.target), planted); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, outside)

			l := Open(logs, "apply")
			l.Logf("a line of the run")
			l.Close()

			if after := snapshot(t, outside); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("root wrote outside the installation through the planted link:\nbefore %v\nafter  %v", before, after)
			}
			if l.Path == planted || filepath.Dir(l.Path) != logs {
				t.Fatalf("log at %q, want a new name in %s", l.Path, logs)
			}
			fi, err := os.Lstat(l.Path)
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("log %q: %v %v, want a regular file", l.Path, fi, err)
			}
			if b, _ := os.ReadFile(l.Path); !strings.Contains(string(b), "a line of the run") {
				t.Fatalf("log %q lacks the run's line: %q", l.Path, b)
			}
		})
	}
}

// logs/ itself replaced by a link to a folder outside: the log goes to the temporary
// folder, nothing is made or removed in the folder the link names.
func TestLogsFolderThatIsALinkIsNotUsed(t *testing.T) {
	outside, root, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp+"/") // as some systems set it
	for i := range 25 {
		name := fmt.Sprintf("omflow-upgrade-check-20261204-10%04d-%d.log", i, 100+i)
		if err := os.WriteFile(filepath.Join(outside, name), []byte("kept\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logs := filepath.Join(root, "logs")
	if err := os.Symlink(outside, logs); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, outside)

	l := Open(logs, "check")
	l.Logf("a line of the run")
	l.Close()
	n := Prune(logs, []string{"check"}, 20)

	if after := snapshot(t, outside); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("root changed the folder the link names:\nbefore %v\nafter  %v", before, after)
	}
	if n != 0 {
		t.Fatalf("Prune removed %d logs through the link", n)
	}
	if filepath.Dir(l.Path) != filepath.Clean(tmp) {
		t.Fatalf("log at %q, want it in the temporary folder %s", l.Path, tmp)
	}
	if b, _ := os.ReadFile(l.Path); !strings.Contains(string(b), "is a link or not a folder") {
		t.Fatalf("the log does not say why logs/ was not used: %q", b)
	}
}

// Old logs replaced by links to files outside: Prune removes no file they name.
func TestPruneFollowsNoLink(t *testing.T) {
	outside, logs := t.TempDir(), t.TempDir()
	for i := range 25 {
		name := fmt.Sprintf("omflow-upgrade-check-20261204-10%04d-%d.log", i, 100+i)
		p := filepath.Join(logs, name)
		if i < 5 {
			victim := filepath.Join(outside, fmt.Sprintf("victim%d", i))
			if err := os.WriteFile(victim, []byte("kept\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, outside)
	Prune(logs, []string{"check"}, 15)
	if after := snapshot(t, outside); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("Prune changed files outside logs/:\nbefore %v\nafter  %v", before, after)
	}
	if left, _ := os.ReadDir(logs); len(left) != 20 {
		t.Fatalf("%d entries left, want the 5 links and the newest 15 logs", len(left))
	}
}
