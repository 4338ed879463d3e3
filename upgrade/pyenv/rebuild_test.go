package pyenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRewriteDjangoConfGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "apache", "django.conf"))
	if err != nil {
		t.Fatal(err)
	}
	module := "/opt/omflow/python/lib/python3.11/site-packages/mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so"
	out, changes := RewriteDjangoConf(in, module, "3.11")
	golden := filepath.Join("testdata", "apache", "django.conf.golden")
	if *update {
		os.WriteFile(golden, out, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("RewriteDjangoConf =\n%s\nwant (%s)\n%s", out, golden, want)
	}
	if len(changes) != 2 {
		t.Errorf("changes = %q, want the LoadModule and WSGIDaemonProcess lines", changes)
	}
}

func TestRewriteDjangoConf(t *testing.T) {
	const mod = "/r/python/lib/python3.11/site-packages/mod_wsgi/server/m.so"
	tests := []struct{ name, in, want string }{
		{"crlf kept", "LoadModule wsgi_module /old/m.so\r\nX\r\n", "LoadModule wsgi_module " + mod + "\r\nX\r\n"},
		{"indent and trailing", "  LoadModule  wsgi_module /old/m.so # py38\n", "  LoadModule  wsgi_module " + mod + " # py38\n"},
		{"comment untouched", "# LoadModule wsgi_module /old/m.so\n", "# LoadModule wsgi_module /old/m.so\n"},
		{"other modules untouched", "LoadModule ssl_module x/python3.8.so\n", "LoadModule ssl_module x/python3.8.so\n"},
		{"global python path", "WSGIPythonPath /a/lib/python3.8/site-packages:/b/cpython-38\nWSGIPythonHome /a\n", "WSGIPythonPath /a/lib/python3.11/site-packages:/b/cpython-311\nWSGIPythonHome /a\n"},
		{"no final newline", "WSGIDaemonProcess x python-path=/p/lib/python3.6/site-packages", "WSGIDaemonProcess x python-path=/p/lib/python3.11/site-packages"},
		{"unrelated python3.8 untouched", "Alias /docs /usr/share/doc/python3.8\n", "Alias /docs /usr/share/doc/python3.8\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := RewriteDjangoConf([]byte(tt.in), mod, "3.11")
			if string(out) != tt.want {
				t.Errorf("got %q, want %q", out, tt.want)
			}
		})
	}
	out, _ := RewriteDjangoConf([]byte("LoadModule wsgi_module /old/m.so\n"), "/opt/my omflow/m.so", "3.11")
	if string(out) != "LoadModule wsgi_module \"/opt/my omflow/m.so\"\n" {
		t.Errorf("a path with a space is not quoted: %q", out)
	}
}

// treeSum describes a tree exactly: every path, its type and permissions, file contents,
// link targets. Two equal sums are the same tree, byte for byte.
func treeSum(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(&b, "%s %v", rel, fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintf(&b, " -> %s", target)
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// standIn is an installation root with a real old venv at ROOT/python (the extra packages
// written as installers leave them) and a django.conf beside it.
type standIn struct {
	root, conf, backup, wheels string
	venvSum                    string
	confBytes                  []byte
}

func newStandIn(t *testing.T, wheels []wheelSpec) *standIn {
	t.Helper()
	dir := t.TempDir()
	s := &standIn{
		root:   filepath.Join(dir, "omflow"),
		conf:   filepath.Join(dir, "apache", "django.conf"),
		backup: filepath.Join(dir, "backup", "python-step"),
		wheels: filepath.Join(dir, "wheels"),
	}
	makeVenv(t, filepath.Join(s.root, "python"), "--without-pip")
	site := sitePackagesDir(t, filepath.Join(s.root, "python"))
	for _, p := range [][2]string{
		{"Django", "2.2.28"}, {"ldap3", "2.9.1"}, {"mod_wsgi", "4.9.0"}, {"openpyxl", "3.0.9"},
		{"pytz", "2021.3"}, {"cx_Oracle", "8.3.0"}, {"zope.interface", "5.5.2"}, {"pip", "20.0.2"},
	} {
		writeDistInfo(t, site, p[0], p[1])
	}
	conf, err := os.ReadFile(filepath.Join("testdata", "apache", "django.conf"))
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s.conf, string(conf))
	os.Chmod(s.conf, 0o640)
	s.confBytes = conf
	s.venvSum = treeSum(t, filepath.Join(s.root, "python"))
	os.MkdirAll(s.wheels, 0o755)
	for _, w := range wheels {
		buildWheel(t, s.wheels, w)
	}
	return s
}

// assertAsBefore checks the venv and django.conf are back byte for byte.
func (s *standIn) assertAsBefore(t *testing.T) {
	t.Helper()
	if got := treeSum(t, filepath.Join(s.root, "python")); got != s.venvSum {
		t.Errorf("ROOT/python differs from the original venv")
	}
	conf, err := os.ReadFile(s.conf)
	if err != nil || !bytes.Equal(conf, s.confBytes) {
		t.Errorf("django.conf differs from the original (%v):\n%s", err, conf)
	}
	if fi, err := os.Stat(s.conf); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("django.conf mode = %v, %v; want 0640", fi.Mode(), err)
	}
}

func (s *standIn) options(t *testing.T) RebuildOptions {
	return RebuildOptions{
		Root:          s.root,
		Python:        systemPython, // Debian 12's python3 is 3.11
		PythonVersion: "3.11",
		BackupDir:     s.backup,
		DjangoConf:    s.conf,
		FindLinks:     s.wheels,
		// Debian's pip through the system site-packages: a venv without its own pip.
		VenvArgs: []string{"--without-pip", "--system-site-packages"},
		Logf:     t.Logf,
	}
}

var releaseWheels = []wheelSpec{
	{Name: "Django", Version: "4.2"},
	{Name: "ldap3", Version: "2.9.1"},
	{Name: "mod_wsgi", Version: "4.9.4", Files: map[string]string{
		"mod_wsgi/__init__.py": "",
		"mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so": "not really ELF",
	}},
	{Name: "openpyxl", Version: "3.1.2"},
	{Name: "wheel", Version: "0.38.4"},
	{Name: "pytz", Version: "2021.3"},
	{Name: "cx_Oracle", Version: "8.3.0"},
	{Name: "zope.interface", Version: "5.5.2"},
}

func TestRebuildDoUndo(t *testing.T) {
	needPython(t)
	t.Parallel()
	ctx := context.Background()
	s := newStandIn(t, releaseWheels)
	r, err := NewRebuild(s.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Do(ctx); err != nil {
		t.Fatalf("Do: %v (failed: %+v)", err, r.Install.Failed)
	}

	newPython := filepath.Join(s.root, "python", "bin", "python")
	new, err := Open(ctx, newPython, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, version := range map[string]string{"Django": "4.2", "ldap3": "2.9.1", "mod_wsgi": "4.9.4", "openpyxl": "3.1.2", "pytz": "2021.3", "cx_Oracle": "8.3.0", "zope.interface": "5.5.2"} {
		if d, ok := new.Lookup(name); !ok || d.Version != version || !strings.HasPrefix(d.Location, s.root) {
			t.Errorf("new venv: %s = %+v, %v; want %s in the venv", name, d, ok, version)
		}
	}
	if !reflect.DeepEqual(r.Extras, []Package{{"cx_Oracle", "8.3.0"}, {"pytz", "2021.3"}, {"zope.interface", "5.5.2"}}) {
		t.Errorf("Extras = %v", r.Extras)
	}
	if got := treeSum(t, filepath.Join(s.backup, "python")); got != s.venvSum {
		t.Errorf("the old venv in the backup differs from the original")
	}
	req, _ := os.ReadFile(filepath.Join(s.backup, "requirements.txt"))
	if want := "wheel\ndjango==4.2\nldap3\nmod_wsgi\nopenpyxl\ncx_Oracle==8.3.0\npytz==2021.3\nzope.interface==5.5.2\n"; string(req) != want {
		t.Errorf("requirements.txt =\n%s\nwant\n%s", req, want)
	}

	module := filepath.Join(sitePackagesDir(t, filepath.Join(s.root, "python")), "mod_wsgi", "server", "mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so")
	if r.WSGIModule != module {
		t.Errorf("WSGIModule = %s, want the real file %s", r.WSGIModule, module)
	}
	conf, _ := os.ReadFile(s.conf)
	want := strings.Replace(string(s.confBytes),
		`"/opt/omflow/python/lib/python3.8/site-packages/mod_wsgi/server/mod_wsgi-py38.cpython-38-x86_64-linux-gnu.so"`,
		`"`+module+`"`, 1)
	want = strings.Replace(want, "python-path=/opt/omflow/server:/opt/omflow/python/lib/python3.8/site-packages",
		"python-path=/opt/omflow/server:/opt/omflow/python/lib/python3.11/site-packages", 1)
	if string(conf) != want {
		t.Errorf("django.conf after Do =\n%s\nwant\n%s", conf, want)
	}

	// The health check failed: the transaction undoes the step.
	if err := r.Undo(ctx); err != nil {
		t.Fatalf("Undo: %v", err)
	}
	s.assertAsBefore(t)
	s.assertNoPrepared(t)
}

func TestRebuildFailsMidwayAndUndoes(t *testing.T) {
	needPython(t)
	t.Parallel()
	ctx := context.Background()
	var wheels []wheelSpec
	for _, w := range releaseWheels {
		if w.Name != "openpyxl" { // a required package missing from the wheel folder
			wheels = append(wheels, w)
		}
	}
	s := newStandIn(t, wheels)
	r, _ := NewRebuild(s.options(t))
	err := r.Do(ctx)
	if !errors.Is(err, ErrInstallFailed) {
		t.Fatalf("Do = %v, want ErrInstallFailed", err)
	}
	if len(r.Install.Failed) != 1 || r.Install.Failed[0].Name != "openpyxl" ||
		!strings.Contains(r.Install.Failed[0].Reason, "openpyxl") {
		t.Errorf("Failed = %+v, want openpyxl with pip's reason", r.Install.Failed)
	}
	// The failure came before any swap: the old venv and django.conf were never touched,
	// the half-built venv is beside them.
	s.assertAsBefore(t)
	if _, err := os.Stat(filepath.Join(s.root, "python"+NewVenvSuffix, "bin", "python")); err != nil {
		t.Errorf("the half-built venv should be beside the old one before Undo: %v", err)
	}

	// A new Rebuild (as after a restart) undoes from what the backup folder records.
	r2, _ := NewRebuild(s.options(t))
	if err := r2.Undo(ctx); err != nil {
		t.Fatalf("Undo: %v", err)
	}
	s.assertAsBefore(t)
	s.assertNoPrepared(t)
	if err := r2.Undo(ctx); err != nil {
		t.Fatalf("second Undo: %v", err)
	}
	s.assertAsBefore(t)
}

func TestRebuildRefusesWithoutPython(t *testing.T) {
	needPython(t)
	ctx := context.Background()
	s := newStandIn(t, nil)
	opts := s.options(t)
	opts.Python, opts.PythonVersion = "", "3.99"
	r, _ := NewRebuild(opts)
	err := r.Do(ctx)
	var refused *outcome.RefusedError
	var missing *PythonMissingError
	if !errors.As(err, &refused) || refused.Reason != ReasonPythonMissing || !errors.As(err, &missing) {
		t.Fatalf("Do = %v, want a python-missing refusal", err)
	}
	if !reflect.DeepEqual(missing.AptPackages, []string{"python3.99", "python3.99-dev", "python3.99-venv", "python3-pip"}) ||
		!strings.Contains(err.Error(), "dpkg -i") {
		t.Errorf("refusal = %q (%v), want apt packages and the offline .deb way", err, missing.AptPackages)
	}
	if _, err := os.Stat(s.backup); !os.IsNotExist(err) {
		t.Errorf("a refusal created the backup folder: %v", err)
	}
	s.assertAsBefore(t)
	if err := r.Undo(ctx); err != nil {
		t.Errorf("Undo after a refusal: %v", err)
	}
	s.assertAsBefore(t)

	// An interpreter given that is not the version wanted is unusable input.
	opts.Python = systemPython
	r, _ = NewRebuild(opts)
	if err := r.Do(ctx); outcome.ExitCode(err) != outcome.ExitUnusable || !strings.Contains(err.Error(), systemPython) {
		t.Errorf("Do with a 3.11 for 3.99 = %v, want unusable input naming it", err)
	}
	s.assertAsBefore(t)
}

func TestFindPython(t *testing.T) {
	needPython(t)
	ctx := context.Background()
	link := func(dir, name string) string {
		os.MkdirAll(dir, 0o755)
		if err := os.Symlink(systemPython, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	base := t.TempDir()
	good := link(filepath.Join(base, "good"), "python3.11") // Debian 12's python3 is 3.11
	misnamed := link(filepath.Join(base, "misnamed"), "python3.9")
	noVenv := filepath.Join(base, "novenv")
	// What a python3.11 without python3.11-venv answers to the probe.
	mustWrite(t, filepath.Join(noVenv, "python3.11"), "#!/bin/sh\necho 3.11; echo no-venv\n")
	os.Chmod(filepath.Join(noVenv, "python3.11"), 0o755)
	empty := t.TempDir()

	tests := []struct {
		name    string
		version string
		dirs    []string
		want    string         // found
		reason  outcome.Reason // else refused
	}{
		{"found after an empty folder", "3.11", []string{empty, noVenv, good}, filepath.Join(good, "python3.11"), ""},
		{"only without venv", "3.11", []string{empty, noVenv}, "", ReasonPythonNoVenv},
		{"a 3.11 named python3.9 is not 3.9", "3.9", []string{misnamed}, "", ReasonPythonMissing},
		{"none", "3.11", []string{empty}, "", ReasonPythonMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindPython(ctx, tt.version, tt.dirs...)
			if tt.reason == "" {
				if err != nil || got != tt.want {
					t.Fatalf("FindPython = %q, %v; want %s", got, err, tt.want)
				}
				return
			}
			var refused *outcome.RefusedError
			var missing *PythonMissingError
			if !errors.As(err, &refused) || refused.Reason != tt.reason || !errors.As(err, &missing) || outcome.ExitCode(err) != outcome.ExitRefused {
				t.Fatalf("FindPython = %q, %v; want refusal %s", got, err, tt.reason)
			}
			msg := err.Error()
			for _, want := range []string{"python" + tt.version + "-venv", "apt-get install", "dpkg -i"} {
				if !strings.Contains(msg, want) {
					t.Errorf("refusal %q does not say %q", msg, want)
				}
			}
			if tt.reason == ReasonPythonNoVenv && missing.NoVenv != filepath.Join(noVenv, "python3.11") {
				t.Errorf("NoVenv = %q", missing.NoVenv)
			}
		})
	}
}

func TestFindWindowsPythons(t *testing.T) {
	const root = `C:\Program Files\OMFLOW Server`
	tests := []struct {
		name    string
		root    string
		files   []string
		want    WindowsPythons
		refused bool
		dir     string
	}{
		{
			name:  "both",
			root:  root,
			files: []string{root + `\Python\python.exe`, root + `\Python311\python.exe`},
			want:  WindowsPythons{Old: root + `\Python\python.exe`, New: root + `\Python311\python.exe`},
		},
		{
			name:    "Python311 not installed yet",
			root:    root + `\`,
			files:   []string{root + `\Python\python.exe`},
			want:    WindowsPythons{Old: root + `\Python\python.exe`, New: root + `\Python311\python.exe`},
			refused: true,
			dir:     `C:\PROGRA~1\OMFLOW Server\Python311`,
		},
		{
			name:    "another drive, slashes",
			root:    `D:/OMFLOW`,
			refused: true,
			want:    WindowsPythons{New: `D:\OMFLOW\Python311\python.exe`},
			dir:     `D:\OMFLOW\Python311`,
		},
		{
			name:  "old Python already gone",
			root:  root,
			files: []string{root + `\Python311\python.exe`},
			want:  WindowsPythons{New: root + `\Python311\python.exe`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exists := func(p string) bool {
				for _, f := range tt.files {
					if strings.EqualFold(f, p) {
						return true
					}
				}
				return false
			}
			got, err := FindWindowsPythons(tt.root, exists)
			if got != tt.want {
				t.Errorf("FindWindowsPythons = %+v, want %+v", got, tt.want)
			}
			var missing *PythonMissingError
			if (err != nil) != tt.refused || outcome.ExitCode(err) != map[bool]int{false: 0, true: 3}[tt.refused] {
				t.Fatalf("err = %v, refused %v", err, tt.refused)
			}
			if tt.refused {
				if !errors.As(err, &missing) || missing.Dir != tt.dir || missing.Arch != "32-bit" || missing.Version != "3.11" {
					t.Errorf("refusal = %+v, want Python 3.11 32-bit into %s", missing, tt.dir)
				}
				if !strings.Contains(err.Error(), tt.dir) || !strings.Contains(err.Error(), "32-bit") {
					t.Errorf("message %q does not say what and where", err)
				}
			}
		})
	}
}

func TestRebuildUndoGuards(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root, backup := filepath.Join(dir, "omflow"), filepath.Join(dir, "backup")
	mustWrite(t, filepath.Join(root, "python", "keep"), "the venv")
	mustWrite(t, filepath.Join(backup, "python", "old"), "an old venv")
	r, err := NewRebuild(RebuildOptions{Root: root, BackupDir: backup, NoApache: true})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing recorded: nothing to undo, nothing touched.
	if err := r.Undo(ctx); err != nil {
		t.Errorf("Undo without state = %v", err)
	}
	// A state naming another venv is not followed.
	mustWrite(t, filepath.Join(backup, "rebuild.json"), `{"venv": "`+filepath.Join(dir, "elsewhere")+`"}`)
	if err := r.Undo(ctx); err == nil || !strings.Contains(err.Error(), "elsewhere") {
		t.Errorf("Undo with a foreign state = %v, want an error naming it", err)
	}
	if _, err := os.Stat(filepath.Join(root, "python", "keep")); err != nil {
		t.Errorf("the venv was touched: %v", err)
	}
	// A backup folder already holding a venv is not overwritten.
	if err := r.Do(ctx); err == nil || !strings.Contains(err.Error(), backup) {
		t.Errorf("Do over an existing backup = %v", err)
	}
	if _, err := NewRebuild(RebuildOptions{Root: root}); outcome.ExitCode(err) != outcome.ExitUnusable {
		t.Errorf("NewRebuild without a backup folder = %v, want unusable", err)
	}
}
