package pyenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

func TestInstallFromWheelFolder(t *testing.T) {
	needPython(t)
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	// pip comes from Debian's python3-pip through the system site-packages: a venv
	// without its own pip is made in a tenth of the time.
	python := makeVenv(t, filepath.Join(dir, "new"), "--without-pip", "--system-site-packages")

	// The old environment: what OMFLOW 1.1 had besides the release's own packages.
	oldSite := filepath.Join(dir, "old", "lib", "python3.8", "site-packages")
	for _, p := range [][2]string{
		{"alpha", "1.0"}, {"Beta_Pkg", "2.1"}, {"zope.interface", "5.5.2"},
		{"absent-pkg", "0.1"}, {"needs-ghost", "1.0"}, {"pip", "20.0.2"}, {"Django", "2.2.28"},
	} {
		writeDistInfo(t, oldSite, p[0], p[1])
	}
	wheels := filepath.Join(dir, "wheels")
	os.MkdirAll(wheels, 0o755)
	for _, w := range []wheelSpec{
		{Name: "alpha", Version: "1.0"},
		{Name: "alpha", Version: "1.1"}, // a newer one beside: the pin decides
		{Name: "Beta_Pkg", Version: "2.1"},
		{Name: "zope.interface", Version: "5.5.2"},
		{Name: "needs-ghost", Version: "1.0", Requires: []string{"ghost-dep>=1"}},
	} {
		buildWheel(t, wheels, w)
	}
	missing := func() []Package {
		t.Helper()
		old, err := Open(ctx, oldSite, Options{})
		if err != nil {
			t.Fatal(err)
		}
		new, err := Open(ctx, python, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return Missing(old, new, "django")
	}
	before := missing()
	if len(before) != 5 {
		t.Fatalf("missing before install = %v, want the 5 extra packages", before)
	}

	reqFile := filepath.Join(dir, "requirements.txt")
	res, err := Install(ctx, python, before, InstallOptions{FindLinks: wheels, Requirements: reqFile, Logf: t.Logf})
	if !errors.Is(err, ErrInstallFailed) {
		t.Fatalf("Install error = %v, want ErrInstallFailed", err)
	}
	req, _ := os.ReadFile(reqFile)
	if want := "absent-pkg==0.1\nalpha==1.0\nBeta_Pkg==2.1\nneeds-ghost==1.0\nzope.interface==5.5.2\n"; string(req) != want {
		t.Errorf("requirements.txt =\n%s\nwant\n%s", req, want)
	}
	var failed []string
	for _, f := range res.Failed {
		failed = append(failed, f.Name)
		switch f.Name {
		case "absent-pkg":
			if !strings.Contains(f.Reason, "absent-pkg==0.1") || !strings.Contains(f.Reason, "No matching distribution") && !strings.Contains(f.Reason, "Could not find a version") {
				t.Errorf("reason for absent-pkg = %q, want pip's own", f.Reason)
			}
		case "needs-ghost":
			if !strings.Contains(f.Reason, "ghost-dep") {
				t.Errorf("reason for needs-ghost = %q, want it to name the missing dependency ghost-dep", f.Reason)
			}
		}
	}
	if !reflect.DeepEqual(failed, []string{"absent-pkg", "needs-ghost"}) {
		t.Errorf("failed = %v, want absent-pkg and needs-ghost", failed)
	}
	if got := missing(); !reflect.DeepEqual(got, []Package{{"absent-pkg", "0.1"}, {"needs-ghost", "1.0"}}) {
		t.Errorf("missing after the first install = %v", got)
	}
	new, _ := Open(ctx, python, Options{})
	if d, _ := new.Lookup("alpha"); d.Version != "1.0" {
		t.Errorf("alpha installed in %q, want the pinned 1.0", d.Version)
	}

	// The administrator adds the missing wheels and installs again: nothing is missing.
	buildWheel(t, wheels, wheelSpec{Name: "absent-pkg", Version: "0.1"})
	buildWheel(t, wheels, wheelSpec{Name: "ghost_dep", Version: "1.2"})
	res, err = Install(ctx, python, missing(), InstallOptions{FindLinks: wheels})
	if err != nil || len(res.Failed) != 0 || len(res.Installed) != 2 {
		t.Fatalf("second Install = %+v, %v", res, err)
	}
	if got := missing(); len(got) != 0 {
		t.Errorf("missing after the second install = %v, want none", got)
	}
	if _, err := os.Stat(res.Requirements); !os.IsNotExist(err) {
		t.Errorf("temporary requirements file %s left behind: %v", res.Requirements, err)
	}
}

func TestInstallWithoutPip(t *testing.T) {
	needPython(t)
	python := makeVenv(t, filepath.Join(t.TempDir(), "bare"), "--without-pip")
	_, err := Install(context.Background(), python, []Package{{"alpha", "1.0"}}, InstallOptions{FindLinks: t.TempDir()})
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != ReasonPipMissing || !strings.Contains(err.Error(), python) {
		t.Errorf("Install with no pip = %v, want a %s refusal naming %s", err, ReasonPipMissing, python)
	}
}

func TestParsePipFailures(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		pending []string
		want    map[string]string
	}{
		{
			name: "not in the wheel folder",
			out: "Looking in links: /w\nERROR: Could not find a version that satisfies the requirement Foo_Bar==1.0 (from versions: 0.9)\n" +
				"ERROR: No matching distribution found for Foo_Bar==1.0\n",
			pending: []string{"foo-bar==1.0", "other==2"},
			want:    map[string]string{"foo-bar": "Could not find a version that satisfies the requirement Foo_Bar==1.0 (from versions: 0.9)"},
		},
		{
			name:    "a dependency is charged to who wanted it",
			out:     "ERROR: Could not find a version that satisfies the requirement ghost>=1 (from needs-ghost==1.0) (from versions: none)\n",
			pending: []string{"needs-ghost==1.0"},
			want:    map[string]string{"needs-ghost": "Could not find a version that satisfies the requirement ghost>=1 (from needs-ghost==1.0) (from versions: none)"},
		},
		{
			name:    "build failure",
			out:     "  error: subprocess-exited-with-error\n  ERROR: Failed building wheel for mod_wsgi\nERROR: Could not build wheels for mod_wsgi, which is required to install pyproject.toml-based projects\n",
			pending: []string{"mod-wsgi", "ldap3"},
			want:    map[string]string{"mod-wsgi": "Failed building wheel for mod_wsgi"},
		},
		{
			name:    "conflict",
			out:     "ERROR: Cannot install a==1, b==2 and c because these package versions have conflicting dependencies.\n",
			pending: []string{"a==1", "b==2", "c", "d"},
			want: map[string]string{
				"a": "Cannot install a==1, b==2 and c because these package versions have conflicting dependencies.",
				"b": "Cannot install a==1, b==2 and c because these package versions have conflicting dependencies.",
				"c": "Cannot install a==1, b==2 and c because these package versions have conflicting dependencies.",
			},
		},
		{
			name:    "wrong Python",
			out:     "ERROR: Package 'oldthing' requires a different Python: 3.11.2 not in '<3.9'\n",
			pending: []string{"oldthing==0.1"},
			want:    map[string]string{"oldthing": "Package 'oldthing' requires a different Python: 3.11.2 not in '<3.9'"},
		},
		{
			name:    "nothing attributable",
			out:     "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n",
			pending: []string{"a"},
			want:    map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parsePipFailures(tt.out, tt.pending); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parsePipFailures =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}
