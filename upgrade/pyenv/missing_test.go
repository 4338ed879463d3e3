package pyenv

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

func openFixture(t *testing.T, name string) *Env {
	t.Helper()
	env, err := Open(context.Background(), filepath.Join("testdata", "sites", name), Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	return env
}

func TestMissingFixtures(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		provided []string
		want     []Package
	}{
		{
			name: "1.1 venv against 1.2 venv",
			old:  "old38", new: "new311",
			want: []Package{
				{"cx-Oracle", "8.3.0"}, // an .egg-info file
				{"omflow-ext", "0.3"},  // an .egg-link editable
				{"zope.interface", "5.4.0"},
			},
		},
		{
			name: "against a bare new Python, release packages provided",
			old:  "old38", new: "pip-only",
			provided: DefaultRequired,
			want: []Package{
				{"cx-Oracle", "8.3.0"},
				{"omflow-ext", "0.3"},
				{"python_ldap", "3.4.0"}, // old spelling kept
				{"pytz", "2021.3"},
				{"ruamel.yaml", "0.17.21"},
				{"sqlparse", "0.4.2"},
				{"zope.interface", "5.4.0"},
			},
		},
		{
			name: "provided names are normalised",
			old:  "old38", new: "pip-only",
			provided: []string{"CX_oracle", "Omflow.Ext", "python-ldap>=3", "PYTZ", "ruamel-yaml", "sqlparse", "zope_interface", "django", "ldap3", "mod-wsgi", "openpyxl"},
			want:     []Package{},
		},
		{
			name: "reverse",
			old:  "new311", new: "old38",
			want: []Package{{"asgiref", "3.7.2"}},
		},
		{
			name: "same environment",
			old:  "old38", new: "old38",
			want: []Package{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Missing(openFixture(t, tt.old), openFixture(t, tt.new), tt.provided...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Missing = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadSitePackagesFixture(t *testing.T) {
	env := openFixture(t, "old38")
	type row struct {
		name, version, kind string
		editable            bool
	}
	var got []row
	for _, d := range env.Dists {
		got = append(got, row{d.Name, d.Version, d.Kind, d.Editable})
	}
	want := []row{
		{"cx-Oracle", "8.3.0", KindEggInfo, false},
		{"Django", "2.2.28", KindDistInfo, false},
		{"ldap3", "2.9.1", KindDistInfo, false},
		{"mod-wsgi", "4.9.0", KindEggInfo, false},
		{"omflow-ext", "0.3", KindEggLink, true},
		{"openpyxl", "3.0.9", KindDistInfo, false},
		{"pip", "20.0.2", KindDistInfo, false},
		{"python_ldap", "3.4.0", KindEggInfo, false},
		{"pytz", "2021.3", KindDistInfo, false},
		{"ruamel.yaml", "0.17.21", KindDistInfo, false},
		{"setuptools", "44.0.0", KindDistInfo, false},
		{"sqlparse", "0.4.2", KindDistInfo, false},
		{"wheel", "0.34.2", KindDistInfo, false},
		{"zope.interface", "5.4.0", KindDistInfo, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dists:\n got %v\nwant %v", got, want)
	}
	if len(env.Skipped) != 1 || !strings.Contains(env.Skipped[0], "broken-1.0.dist-info") {
		t.Errorf("Skipped = %q, want the dist-info without METADATA", env.Skipped)
	}
	if d, ok := env.Lookup("Python-LDAP"); !ok || d.Name != "python_ldap" {
		t.Errorf("Lookup(Python-LDAP) = %v, %v", d, ok)
	}
}

func TestOpenUnusable(t *testing.T) {
	for _, path := range []string{
		filepath.Join("testdata", "no-such-dir"),
		filepath.Join("testdata", "sites", "omflow-ext", "omflow_ext.egg-info", "PKG-INFO"), // not an interpreter
		t.TempDir(), // no Python in it
	} {
		_, err := Open(context.Background(), path, Options{})
		if outcome.ExitCode(err) != outcome.ExitUnusable || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%q) = %v, want an unusable-input error naming it", path, err)
		}
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		newPath  string // the new environment's site-packages as the target spells it
		goos     string
		command  string
		exit     int
	}{
		{
			name: "windows", old: "old38", new: "new311", goos: "windows",
			newPath: `C:\Program Files\OMFLOW Server\Python311\Lib\site-packages`,
			command: `"C:\Program Files\OMFLOW Server\Python311\python.exe" -m pip install -- cx-Oracle==8.3.0 omflow-ext==0.3 zope.interface==5.4.0`,
			exit:    outcome.ExitRefused,
		},
		{
			name: "linux", old: "old38", new: "new311", goos: "linux",
			newPath: "/opt/omflow/python/lib/python3.11/site-packages",
			command: "/opt/omflow/python/bin/python -m pip install -- cx-Oracle==8.3.0 omflow-ext==0.3 zope.interface==5.4.0",
			exit:    outcome.ExitRefused,
		},
		{
			name: "nothing missing", old: "new311", new: "new311", goos: "linux",
			newPath: "/opt/omflow/python/lib/python3.11/site-packages",
			exit:    outcome.ExitOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := openFixture(t, tt.old), openFixture(t, tt.new)
			new.SitePackages = []string{tt.newPath}
			r := NewReport(old, new, tt.goos)
			if r.Command != tt.command {
				t.Errorf("Command = %s\n want %s", r.Command, tt.command)
			}
			if r.ExitCode() != tt.exit {
				t.Errorf("ExitCode = %d, want %d", r.ExitCode(), tt.exit)
			}
			var refused *outcome.RefusedError
			if err := r.Err(); (err != nil) != (tt.exit != 0) || (err != nil && (!errors.As(err, &refused) || refused.Reason != ReasonPackagesMissing)) {
				t.Errorf("Err = %v", err)
			}
			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var shape map[string]json.RawMessage
			if err := json.Unmarshal(data, &shape); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"old", "new", "missing", "command"} {
				if _, ok := shape[k]; !ok {
					t.Errorf("JSON %s lacks %q", data, k)
				}
			}
			if string(shape["missing"]) == "null" {
				t.Errorf("missing is null, want a list: %s", data)
			}
		})
	}
}

func TestInterpreterOf(t *testing.T) {
	tests := []struct{ site, goos, want string }{
		{`C:\Program Files\OMFLOW Server\Python311\Lib\site-packages`, "windows", `C:\Program Files\OMFLOW Server\Python311\python.exe`},
		{`C:\Program Files\OMFLOW Server\Python\lib\site-packages`, "windows", `C:\Program Files\OMFLOW Server\Python\python.exe`},
		{"/opt/omflow/python/lib/python3.11/site-packages", "linux", "/opt/omflow/python/bin/python"},
		{"/opt/omflow/python/lib64/python3.8/site-packages", "linux", "/opt/omflow/python/bin/python"},
		{"/srv/site-packages", "linux", "python3"},
	}
	for _, tt := range tests {
		if got := InterpreterOf(tt.site, tt.goos); got != tt.want {
			t.Errorf("InterpreterOf(%q, %s) = %q, want %q", tt.site, tt.goos, got, tt.want)
		}
	}
}

func TestInstallCommandQuoting(t *testing.T) {
	pkgs := []Package{{"a", "1"}, {"b", ""}}
	tests := []struct{ python, goos, want string }{
		{"/opt/my omflow/python/bin/python", "linux", "'/opt/my omflow/python/bin/python' -m pip install -- a==1 b"},
		{`C:\OMFLOW\Python311\python.exe`, "windows", `C:\OMFLOW\Python311\python.exe -m pip install -- a==1 b`},
		// cmd.exe expands %VAR% between quotes too: each % leaves them, escaped by a caret.
		{`C:\Users\a%USERNAME%b\python.exe`, "windows", `"C:\Users\a"^%"USERNAME"^%"b\python.exe" -m pip install -- a==1 b`},
		{`C:\a&b|c^d<e>f\python.exe`, "windows", `"C:\a&b|c^d<e>f\python.exe" -m pip install -- a==1 b`},
		{"/opt/$(id)`id`/python", "linux", "'/opt/$(id)`id`/python' -m pip install -- a==1 b"},
	}
	for _, tt := range tests {
		if got := InstallCommand(tt.python, tt.goos, pkgs); got != tt.want {
			t.Errorf("InstallCommand(%q) = %s, want %s", tt.python, got, tt.want)
		}
	}
}

// The Windows folders as pydiff gets them (ROOT\Python, ROOT\Python311): read without
// running either, the command built around Python311\python.exe.
func TestOlderIn(t *testing.T) {
	got := OlderIn(openFixture(t, "new311"), openFixture(t, "old38"))
	want := []Older{
		{"Django", "4.2", "2.2.28"},
		{"mod-wsgi", "4.9.4", "4.9.0"},
		{"openpyxl", "3.1.2", "3.0.9"},
		{"python-ldap", "3.4.3", "3.4.0"},
		{"pytz", "2023.3", "2021.3"},
		{"ruamel_yaml", "0.18.5", "0.17.21"},
		{"sqlparse", "0.4.4", "0.4.2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OlderIn =\n %v\nwant\n %v", got, want)
	}
	if got := OlderIn(openFixture(t, "old38"), openFixture(t, "new311"), "django"); len(got) != 0 {
		t.Errorf("OlderIn(old, new) = %v, want none: the new one is newer everywhere", got)
	}
}

func TestReportWindowsFolders(t *testing.T) {
	old, new := openFixture(t, "winpy37"), openFixture(t, "win311")
	if want := filepath.Join("testdata", "sites", "win311", "Lib", "site-packages"); !reflect.DeepEqual(new.SitePackages, []string{want}) {
		t.Errorf("SitePackages = %v, want [%s]", new.SitePackages, want)
	}
	r := NewReport(old, new, "windows", "openpyxl")
	if want := []Package{{"pywin32", "228"}}; !reflect.DeepEqual(r.Missing, want) {
		t.Errorf("Missing = %v, want %v", r.Missing, want)
	}
	if want := `testdata\sites\win311\python.exe -m pip install -- pywin32==228`; r.Command != want {
		t.Errorf("Command = %s, want %s", r.Command, want)
	}
}
