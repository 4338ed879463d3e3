package upgrade

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
)

// legacyPatch writes a seed-style patch: omflow_patch_A_B_C_D.tar.gz with patch.sh (and
// the files it copies) in a folder.
func legacyPatch(t *testing.T, name, script string, files map[string]string) string {
	return legacyTarball(t, name, "patch/", script, 0o755, files)
}

// legacyTarball writes a patch named name with patch.sh (of the given mode) and files in
// dir ("" or a folder ending in '/').
func legacyTarball(t *testing.T, name, dir, script string, mode int64, files map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	add := func(name, content string, mode int64) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(content)), Typeflag: tar.TypeReg})
		tw.Write([]byte(content))
	}
	add(dir+"patch.sh", script, mode)
	for n, c := range files {
		add(dir+n, c, 0o644)
	}
	tw.Close()
	zw.Close()
	f.Close()
	return p
}

func TestLegacyPatch(t *testing.T) {
	tests := []struct {
		name   string
		script string
		exit   int
	}{
		{"patch.sh succeeds", "#!/bin/sh\nset -e\ncp views.py \"$OMFLOW_HOME/server/omflow/views.py\"\nmkdir -p \"$OMFLOW_HOME/server/omflow/new\"\necho new > \"$OMFLOW_HOME/server/omflow/new/file.py\"\nrm \"$OMFLOW_HOME/server/omflow/urls.py\"\necho patched\n", 0},
		{"patch.sh fails half-way", "#!/bin/sh\ncp views.py \"$OMFLOW_HOME/server/omflow/views.py\"\nrm \"$OMFLOW_HOME/server/omflow/urls.py\"\necho 'cannot copy static files' >&2\nexit 1\n", outcome.ExitRolledBack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newDemo(t, "", "1.1.6.1")
			before := snapshot(t, in.Root)
			p := legacyPatch(t, "omflow_patch_1_1_6_3.tar.gz", tt.script, map[string]string{"views.py": "# patched 1.1.6.3\n"})
			opt := options(t, in)
			if _, err := openSession(t, opt).Apply(context.Background(), p); outcome.ExitCode(err) != outcome.ExitUnusable {
				t.Fatalf("an unsigned legacy patch without -allow-unsigned: %v", err)
			}
			opt.AllowUnsigned = true
			rep, err := openSession(t, opt).Apply(context.Background(), p)
			if outcome.ExitCode(err) != tt.exit {
				t.Fatalf("exit %d: %v", outcome.ExitCode(err), err)
			}
			if tt.exit != 0 {
				sameTree(t, before, snapshot(t, in.Root))
				answers(t, in, "1.1.6.1")
				return
			}
			if rep.Version != "1.1.6.3" || readRel(t, in.Root, "server/omflow/views.py") != "# patched 1.1.6.3\n" {
				t.Fatalf("report %+v", rep)
			}
			answers(t, in, "1.1.6.3")
			if _, err := openSession(t, options(t, in)).Rollback(context.Background()); err != nil {
				t.Fatal(err)
			}
			sameTree(t, before, snapshot(t, in.Root))
			answers(t, in, "1.1.6.1")
		})
	}
}

// bashOnly copies views.py the way only bash can (an array, [[ ]]): under dash it is a
// syntax error, and the update rolls back.
const bashOnly = `files=(views.py)
if [[ ${#files[@]} -eq 1 && -n "$BASH_VERSION" ]]; then
	cp "${files[0]}" "$OMFLOW_HOME/server/omflow/views.py"
else
	exit 7
fi
echo "patched by $0 with bash $BASH_VERSION"
`

// patch.sh runs with its own #! interpreter, as sudo ./patch.sh runs it; one this machine
// lacks is refused before anything changes.
func TestLegacyInterpreter(t *testing.T) {
	for _, sh := range []string{"/bin/bash", "/usr/bin/env"} {
		if _, err := os.Stat(sh); err != nil {
			testneed.Missing(t, "%s: %v", sh, err)
		}
	}
	const seedDir = "omflow_patch_1_1_6_3_upgrade4/" // as the seed's 1_1_6_4_upgrade3 unpacks
	tests := []struct {
		name   string
		script string
		mode   int64
		files  map[string]string
		exit   int
		reason Reason
		want   string // the version installed
	}{
		{"#!/bin/bash", "#!/bin/bash\n" + bashOnly, 0o755, nil, 0, "", "1.1.6.3"},
		{"#!/usr/bin/env bash, not executable", "#!/usr/bin/env bash\n" + bashOnly, 0o644, nil, 0, "", "1.1.6.3"},
		{"CRLF #! line", "#!/bin/bash\r\n" + bashOnly, 0o755, nil, 0, "", "1.1.6.3"},
		{"no #! line: /bin/sh", "set -e\ncp views.py \"$OMFLOW_HOME/server/omflow/views.py\"\n", 0o644, nil, 0, "", "1.1.6.3"},
		{"version.bin wins over the name", "#!/bin/bash\n" + bashOnly, 0o755,
			map[string]string{"server/omflow/syscom/version.bin": "version=1.1.6.3fix1\nversion_num=001001006003\n"}, 0, "", "1.1.6.3fix1"},
		{"#!/bin/bash -e stops at the first failure", "#!/bin/bash -e\nfiles=(views.py)\ncp \"${files[0]}\" \"$OMFLOW_HOME/server/omflow/views.py\"\nfalse\necho 'not reached'\n",
			0o755, nil, outcome.ExitRolledBack, "", ""},
		{"missing interpreter", "#!/opt/nothing/sh\n" + bashOnly, 0o755, nil, outcome.ExitRefused, ReasonLegacyInterpreterMissing, ""},
		{"env: missing program", "#!/usr/bin/env omflow-no-such-shell\n" + bashOnly, 0o755, nil, outcome.ExitRefused, ReasonLegacyInterpreterMissing, ""},
		{"env: two words are one name", "#!/usr/bin/env bash -e\n" + bashOnly, 0o755, nil, outcome.ExitRefused, ReasonLegacyInterpreterMissing, ""},
		{"a folder as interpreter", "#!/bin\n" + bashOnly, 0o755, nil, outcome.ExitRefused, ReasonLegacyInterpreterMissing, ""},
		{"relative interpreter", "#!bin/bash\n" + bashOnly, 0o755, nil, outcome.ExitRefused, ReasonLegacyInterpreterInvalid, ""},
		{"empty #! line", "#!\n" + bashOnly, 0o755, nil, outcome.ExitRefused, ReasonLegacyInterpreterInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newDemo(t, "", "1.1.6.1")
			before := snapshot(t, in.Root)
			files := map[string]string{"views.py": "# patched 1.1.6.3\n"}
			for n, c := range tt.files {
				files[n] = c
			}
			p := legacyTarball(t, "omflow_patch_1_1_6_3_upgrade3.tar.gz", seedDir, tt.script, tt.mode, files)
			opt := options(t, in)
			opt.AllowUnsigned = true

			// the check says what apply will do
			pk, err := pkg.Open(context.Background(), p, pkg.Options{AllowUnsigned: true})
			if err != nil {
				t.Fatal(err)
			}
			r := &CheckReport{Allowed: true}
			checkLegacy(pk, r)
			if r.Allowed != (tt.reason == "") || r.Reason != tt.reason {
				t.Fatalf("checkLegacy: allowed %v reason %q, want %q: %+v", r.Allowed, r.Reason, tt.reason, r.Checks)
			}

			rep, err := openSession(t, opt).Apply(context.Background(), p)
			if outcome.ExitCode(err) != tt.exit {
				t.Fatalf("exit %d: %v", outcome.ExitCode(err), err)
			}
			switch {
			case tt.reason != "":
				var re *outcome.RefusedError
				if !errors.As(err, &re) || re.Reason != tt.reason || !strings.Contains(err.Error(), "1.1.6.3 (upgrade3)") ||
					!strings.Contains(err.Error(), "nothing was changed") {
					t.Fatalf("refusal %v, want reason %s naming the patch", err, tt.reason)
				}
				if _, err := os.Stat(in.StateDir()); err == nil {
					t.Fatal("the refused update left its state folder behind")
				}
				fallthrough
			case tt.exit != 0:
				sameTree(t, before, snapshot(t, in.Root))
				answers(t, in, "1.1.6.1")
				return
			}
			if rep.Version != tt.want || readRel(t, in.Root, "server/omflow/views.py") != "# patched 1.1.6.3\n" {
				t.Fatalf("report %+v", rep)
			}
			answers(t, in, tt.want) // the label is shown, never written
		})
	}
}

// On Windows no patch.sh runs: refused before anything changes.
func TestLegacyWindows(t *testing.T) {
	_, err := legacyArgv(&pkg.Legacy{Version: "1.2.0.0", Script: "patch.sh"}, "windows")
	var re *outcome.RefusedError
	if !errors.As(err, &re) || re.Reason != ReasonLegacyUnsupported {
		t.Fatalf("%v, want a refusal %s", err, ReasonLegacyUnsupported)
	}
	argv, err := legacyArgv(&pkg.Legacy{Version: "1.2.0.0", Script: "patch.sh"}, "linux")
	if err != nil || strings.Join(argv, " ") != "/bin/sh" {
		t.Fatalf("without a #! line: %q %v, want /bin/sh", argv, err)
	}
}
