package upgrade

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

// legacyPatch writes a seed-style patch: omflow_patch_A_B_C_D.tar.gz with patch.sh (and
// the files it copies) in a folder.
func legacyPatch(t *testing.T, name, script string, files map[string]string) string {
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
	add("patch/patch.sh", script, 0o755)
	for n, c := range files {
		add("patch/"+n, c, 0o644)
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
			if _, err := Apply(context.Background(), opt, p); outcome.ExitCode(err) != outcome.ExitUnusable {
				t.Fatalf("an unsigned legacy patch without -allow-unsigned: %v", err)
			}
			opt.AllowUnsigned = true
			rep, err := Apply(context.Background(), opt, p)
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
			if _, err := Rollback(context.Background(), options(t, in)); err != nil {
				t.Fatal(err)
			}
			sameTree(t, before, snapshot(t, in.Root))
			answers(t, in, "1.1.6.1")
		})
	}
}
