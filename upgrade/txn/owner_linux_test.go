package txn

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"omflow-upgrade/internal/testneed"
)

// testLabel is the extended attribute the tests use as the security label: any file
// system with extended attributes keeps user.* ones, SELinux or not.
const testLabel = "user.omflow-test"

// useTestLabels makes the run read and write testLabel as the label, in a folder whose
// file system keeps it: t.TempDir() when it does, else under /var/tmp or the working
// folder. Without one the test fails: what it proves cannot be proved elsewhere.
func useTestLabels(t *testing.T) string {
	t.Helper()
	old := labelXattr
	labelXattr = testLabel
	t.Cleanup(func() { labelXattr = old })
	wd, _ := os.Getwd()
	var tried []string
	for _, base := range []string{"", "/var/tmp", wd} {
		dir := ""
		if base == "" {
			dir = t.TempDir()
		} else {
			d, err := os.MkdirTemp(base, "omflow-upgrade-labels-")
			if err != nil {
				tried = append(tried, fmt.Sprintf("%s: %v", base, err))
				continue
			}
			t.Cleanup(func() { os.RemoveAll(d) })
			dir = d
		}
		err := unix.Setxattr(dir, testLabel, []byte("probe"), 0)
		if err == nil {
			unix.Removexattr(dir, testLabel)
			return dir
		}
		tried = append(tried, fmt.Sprintf("%s: %v", dir, err))
	}
	t.Fatalf("no folder keeps user.* extended attributes, so labels cannot be tested: %s", strings.Join(tried, "; "))
	return ""
}

// needRoot stops a test that gives files away: only root may.
func needRoot(t *testing.T) {
	t.Helper()
	testneed.Root(t, "giving files to www-data")
}

// node is one entry of an owned tree: a folder (dir), a link (link) or a file.
type node struct {
	dir      bool
	link     string
	data     string
	mode     fs.FileMode
	uid, gid int
	label    string // "" for none
}

// makeNodes writes nodes under root: parents first, then owner, mode and label.
func makeNodes(t *testing.T, root string, nodes map[string]node) {
	t.Helper()
	paths := make([]string, 0, len(nodes))
	for p := range nodes {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, rel := range paths {
		n := nodes[rel]
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case n.dir:
			err = os.Mkdir(p, 0o700)
		case n.link != "":
			err = os.Symlink(n.link, p)
		default:
			err = os.WriteFile(p, []byte(n.data), 0o600)
		}
		if err == nil {
			err = os.Lchown(p, n.uid, n.gid)
		}
		if err == nil && n.link == "" {
			err = os.Chmod(p, n.mode)
		}
		if err == nil && n.label != "" {
			err = unix.Lsetxattr(p, testLabel, []byte(n.label), 0)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// meta is what the tests compare of one entry: owner, mode, label.
type meta struct {
	uid, gid int
	mode     fs.FileMode
	label    string
}

func (m meta) String() string {
	return fmt.Sprintf("%d:%d %v label %q", m.uid, m.gid, m.mode, m.label)
}

func metaOf(t *testing.T, p string) meta {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	m := meta{uid: int(st.Uid), gid: int(st.Gid), mode: fi.Mode()}
	buf := make([]byte, 256)
	if n, err := unix.Lgetxattr(p, testLabel, buf); err == nil {
		m.label = string(buf[:n])
	}
	return m
}

// ownedSnapshot is every entry under root (not the state folder): owner, mode, label,
// content or link target.
func ownedSnapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == ".omflow-upgrade" {
			return filepath.SkipDir
		}
		s := metaOf(t, p).String()
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			s += " -> " + l
		case d.Type().IsRegular():
			b, _ := os.ReadFile(p)
			s += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[filepath.ToSlash(rel)] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var d []string
	for p, w := range want {
		if g := got[p]; g != w {
			d = append(d, fmt.Sprintf("%s: %q, want %q", p, g, w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			d = append(d, "extra "+p)
		}
	}
	if len(d) > 0 {
		sort.Strings(d)
		t.Fatalf("%s:\n%s", what, strings.Join(d, "\n"))
	}
}

// ownedCase is one file of an update of a www-data-owned installation: what is there
// (old, nil when new), what the package brings, and what the file must be in place.
type ownedCase struct {
	name string
	path string
	old  *node
	new  node // data, mode or link
	like string
	want meta
}

// ownedInstallation is an OMFLOW tree as Apache's mod_wsgi runs it: www-data's, with a
// 0660 database, a 0600 settings.py, 0750 folders, one folder and file of root's, and
// labels on everything; and the cases of an update of it.
func ownedInstallation(t *testing.T) (root string, folders map[string]node, cases []ownedCase) {
	www, wwwg := otherOwner(t)
	dir := func(mode fs.FileMode, uid, gid int, label string) node {
		return node{dir: true, mode: mode, uid: uid, gid: gid, label: label}
	}
	file := func(mode fs.FileMode, uid, gid int, label string) *node {
		return &node{data: "old", mode: mode, uid: uid, gid: gid, label: label}
	}
	folders = map[string]node{
		"server":         dir(0o750, www, wwwg, "dir_t"),
		"server/omflow":  dir(0o750, www, wwwg, "omflow_t"),
		"server/static":  dir(0o755, www, wwwg, "static_t"),
		"server/empty":   dir(0o755, www, wwwg, "empty_t"),
		"server/rootdir": dir(0o755, 0, 0, "root_t"),
	}
	ww := func(mode fs.FileMode, label string) meta {
		return meta{uid: www, gid: wwwg, mode: mode, label: label}
	}
	pkg := func(mode fs.FileMode) node { return node{data: "new", mode: mode} }
	cases = []ownedCase{
		{name: "replaced: owner and mode of what it replaces", path: "server/omflow/views.py",
			old: file(0o640, www, wwwg, "py_t"), new: pkg(0o644), want: ww(0o640, "py_t")},
		{name: "the database copy stays www-data's 0660", path: "server/db.omflow",
			old: file(0o660, www, wwwg, "db_t"), new: pkg(0o660), want: ww(0o660, "db_t")},
		{name: "settings.py stays 0600", path: "server/omflow/settings.py",
			old: file(0o600, www, wwwg, "conf_t"), new: pkg(0o644), want: ww(0o600, "conf_t")},
		{name: "the package makes a script executable", path: "server/tool.sh",
			old: file(0o640, www, wwwg, "bin_t"), new: pkg(0o755), want: ww(0o750, "bin_t")},
		{name: "an executable stays executable", path: "server/omflow_server",
			old: file(0o750, www, wwwg, "bin_t"), new: pkg(0o644), want: ww(0o750, "bin_t")},
		{name: "root's file stays root's", path: "server/rootdir/apache.conf",
			old: file(0o640, 0, wwwg, "conf_t"), new: pkg(0o644), want: meta{uid: 0, gid: wwwg, mode: 0o640, label: "conf_t"}},
		{name: "saved beside settings.py: as settings.py", path: "server/omflow/settings.py.omflow-old",
			like: "server/omflow/settings.py", new: pkg(0o644), want: ww(0o600, "conf_t")},
		{name: "added: its folder's owner, a sibling's label of its extension", path: "server/static/c.js",
			new: pkg(0o644), want: ww(0o644, "js_t")},
		{name: "added, no sibling of its extension: the first labelled file's", path: "server/static/d.png",
			new: pkg(0o640), want: ww(0o640, "css_t")},
		{name: "added into a folder without files: the folder's label", path: "server/empty/x.py",
			new: pkg(0o644), want: ww(0o644, "empty_t")},
		{name: "added into new folders: the nearest folder's owner", path: "server/newapp/deep/m.py",
			new: pkg(0o644), want: ww(0o644, "db_t")},
		{name: "added into root's folder", path: "server/rootdir/new.conf",
			new: pkg(0o644), want: meta{uid: 0, gid: 0, mode: 0o644, label: "conf_t"}},
		{name: "a link: its owner, no mode", path: "server/current",
			old: &node{link: "omflow", uid: www, gid: wwwg}, new: node{link: "static"},
			want: meta{uid: www, gid: wwwg, mode: fs.ModeSymlink | 0o777}},
	}
	root = filepath.Join(useTestLabels(t), "omflow")
	nodes := map[string]node{
		"server/static/a.css": *file(0o644, www, wwwg, "css_t"),
		"server/static/b.js":  *file(0o644, www, wwwg, "js_t"),
		"server/static/zz":    dir(0o755, www, wwwg, "zz_t"),
	}
	for p, n := range folders {
		nodes[p] = n
	}
	for _, c := range cases {
		if c.old != nil {
			nodes[c.path] = *c.old
		}
	}
	makeNodes(t, root, nodes)
	return root, folders, cases
}

// stageOwned writes the package's copies as an extraction would: root's, in the
// staging folder's label (none).
func stageOwned(t *testing.T, staging string, cases []ownedCase) []Op {
	t.Helper()
	nodes := map[string]node{}
	var ops []Op
	for _, c := range cases {
		nodes[c.path] = c.new
		op := Op{Kind: Add, Path: c.path, Like: c.like}
		if c.old != nil {
			op.Kind = Replace
		}
		ops = append(ops, op)
	}
	makeNodes(t, staging, nodes)
	return ops
}

func TestOwnersModesLabelsKept(t *testing.T) {
	needRoot(t)
	root, folders, cases := ownedInstallation(t)
	before := ownedSnapshot(t, root)
	state := filepath.Join(root, ".omflow-upgrade")
	var logs []string
	opt := Options{Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}

	apply := func() *Txn {
		tx, err := Begin(t.Context(), state, root, opt)
		if err != nil {
			t.Fatal(err)
		}
		ops := stageOwned(t, tx.StagingDir(), cases)
		if err := tx.Prepare(t.Context(), Plan{From: "1", To: "2", Ops: ops}); err != nil {
			t.Fatal(err)
		}
		// Prepare, while the service runs, did it all: Apply only renames.
		for _, c := range cases {
			if got := metaOf(t, filepath.Join(tx.StagingDir(), filepath.FromSlash(c.path))); got != c.want {
				t.Errorf("%s: staged %s is %v after Prepare, want %v", c.name, c.path, got, c.want)
			}
		}
		if err := tx.Apply(t.Context()); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	check := func(when string) {
		t.Helper()
		for _, c := range cases {
			if got := metaOf(t, filepath.Join(root, filepath.FromSlash(c.path))); got != c.want {
				t.Errorf("%s, %s: %s is %v, want %v", when, c.name, c.path, got, c.want)
			}
		}
		server := folders["server"]
		for _, d := range []string{"server/newapp", "server/newapp/deep"} {
			want := meta{uid: server.uid, gid: server.gid, mode: fs.ModeDir | 0o755, label: server.label}
			if got := metaOf(t, filepath.Join(root, d)); got != want {
				t.Errorf("%s: new folder %s is %v, want its parent's owner and label, the run's mode: %v", when, d, got, want)
			}
		}
		for name, m := range folders {
			if got := metaOf(t, filepath.Join(root, name)); got != (meta{uid: m.uid, gid: m.gid, mode: fs.ModeDir | m.mode, label: m.label}) {
				t.Errorf("%s: folder %s changed: %v", when, name, got)
			}
		}
	}

	// Applied, then rolled back: the originals are back, owners and labels too.
	tx := apply()
	check("applied")
	if err := tx.Rollback(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	sameSnapshot(t, "after the rollback", ownedSnapshot(t, root), before)

	// Applied and committed, then undone: the same.
	tx = apply()
	if err := tx.Mark(t.Context(), "healthy"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	check("committed")
	// An undo rolled back after it removed the run's new folders makes them again.
	undo, err := BeginUndo(t.Context(), state, root, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := undo.Apply(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "server/newapp")); !os.IsNotExist(err) {
		t.Fatalf("the undo left server/newapp: %v", err)
	}
	if err := undo.Rollback(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	undo.Close()
	check("undo rolled back")
	if _, err := undoLast(t.Context(), state, root, opt); err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, "after the undo", ownedSnapshot(t, root), before)
	for _, l := range logs {
		if strings.Contains(l, "said once") {
			t.Errorf("a root run said it could not keep owners or labels: %s", l)
		}
	}
}

// A run that may not give files away (not root) keeps going, says so once, and still
// gives modes and labels.
func TestOwnerRefusedIsSaidOnce(t *testing.T) {
	needRoot(t) // to build a tree of www-data's
	root, _, cases := ownedInstallation(t)
	calls := 0
	old := lchown
	lchown = func(string, int, int) error {
		calls++
		return &fs.PathError{Op: "lchown", Err: unix.EPERM}
	}
	t.Cleanup(func() { lchown = old })
	var said []string
	opt := Options{Logf: func(f string, a ...any) {
		if l := fmt.Sprintf(f, a...); strings.Contains(l, "said once") {
			said = append(said, l)
		}
	}}
	tx, err := Begin(t.Context(), filepath.Join(root, ".omflow-upgrade"), root, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	ops := stageOwned(t, tx.StagingDir(), cases)
	if err := tx.Prepare(t.Context(), Plan{Ops: ops}); err != nil {
		t.Fatalf("Prepare failed where it may not give files away: %v", err)
	}
	if calls < 2 || len(said) != 1 {
		t.Fatalf("%d refused owner changes logged %d times (%q), want once", calls, len(said), said)
	}
	for _, c := range cases {
		got := metaOf(t, filepath.Join(tx.StagingDir(), filepath.FromSlash(c.path)))
		if got.uid != 0 || got.mode != c.want.mode || got.label != c.want.label {
			t.Errorf("%s: staged %v, want root's with mode %v and label %q", c.name, got, c.want.mode, c.want.label)
		}
	}
}

// The full-tree backup around a legacy patch keeps owners and labels: its rollback
// gives back the tree as it was.
func TestTreeBackupKeepsOwnersAndLabels(t *testing.T) {
	needRoot(t)
	root, _, _ := ownedInstallation(t)
	before := ownedSnapshot(t, root)
	state := filepath.Join(root, ".omflow-upgrade")
	tx, err := Begin(t.Context(), state, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.PrepareTree(t.Context(), Plan{From: "1", To: "2"}); err != nil {
		t.Fatal(err)
	}
	// The patch rewrites files as root, without labels.
	for _, p := range []string{"server/db.omflow", "server/omflow/settings.py"} {
		full := filepath.Join(root, p)
		os.Remove(full)
		if err := os.WriteFile(full, []byte("patched"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Rollback(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, "after the rollback of a legacy patch", ownedSnapshot(t, root), before)
}

// KeepAttrs (for files written outside a run) follows the Replace rule.
func TestKeepAttrs(t *testing.T) {
	needRoot(t)
	dir := useTestLabels(t)
	www, wwwg := otherOwner(t)
	makeNodes(t, dir, map[string]node{
		"version.bin":      {data: "old", mode: 0o640, uid: www, gid: wwwg, label: "ver_t"},
		".version.bin.tmp": {data: "new", mode: 0o644},
	})
	tmp, like := filepath.Join(dir, ".version.bin.tmp"), filepath.Join(dir, "version.bin")
	if err := KeepAttrs(tmp, like); err != nil {
		t.Fatal(err)
	}
	if got, want := metaOf(t, tmp), (meta{uid: www, gid: wwwg, mode: 0o640, label: "ver_t"}); got != want {
		t.Fatalf("KeepAttrs: %v, want %v", got, want)
	}
	if err := KeepAttrs(tmp, filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("KeepAttrs with nothing to be like: %v", err)
	}
	if err := KeepAttrs(filepath.Join(dir, "missing"), like); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("KeepAttrs of a missing file: %v", err)
	}
}
