package inuse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

type fakeFinder struct {
	held map[string][]Holder
	err  error
}

func (f fakeFinder) Holders(ctx context.Context, files []string) ([]Holder, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []Holder
	for _, file := range files {
		out = append(out, f.held[file]...)
	}
	return out, ctx.Err()
}

func TestCheck(t *testing.T) {
	apache := `C:\Program Files\OMFLOW Server\Apache24\logs\error.log`
	db := `C:\Program Files\OMFLOW Server\omflow\db.omflow`
	many := map[string][]Holder{}
	var manyFiles []string
	for i := range 7 {
		f := fmt.Sprintf(`C:\x\f%d.py`, i)
		manyFiles = append(manyFiles, f)
		many[f] = []Holder{{File: f, PID: 9, Process: "python.exe"}}
	}
	tests := []struct {
		name  string
		f     fakeFinder
		files []string
		exit  int
		msg   []string
	}{
		{"nothing held", fakeFinder{held: map[string][]Holder{}}, []string{apache}, outcome.ExitOK, nil},
		{"held by a service", fakeFinder{held: map[string][]Holder{apache: {{File: apache, PID: 412, Process: "OMFLOWServer.exe", Service: "OMFLOWServer"}}}},
			[]string{apache, db}, outcome.ExitRefused,
			[]string{"a file is in use", apache, "service OMFLOWServer", "pid 412", "stop the service"}},
		{"holder unknown", fakeFinder{held: map[string][]Holder{db: {{File: db}}}},
			[]string{apache, db}, outcome.ExitRefused, []string{db, "does not name"}},
		{"two holders of one file", fakeFinder{held: map[string][]Holder{db: {{File: db, PID: 1, Process: "a.exe"}, {File: db, PID: 2, Process: "b.exe"}}}},
			[]string{db}, outcome.ExitRefused, []string{"2 files are in use", "a.exe, pid 1", "b.exe, pid 2"}},
		{"many", fakeFinder{held: many}, manyFiles, outcome.ExitRefused, []string{"7 files", `f4.py`, "and 2 more"}},
		{"finder fails", fakeFinder{err: errors.New("RmStartSession: boom")}, []string{db}, outcome.ExitInternal, []string{"boom"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(context.Background(), tc.f, tc.files)
			if got := outcome.ExitCode(err); got != tc.exit {
				t.Fatalf("Check = %v (exit %d), want exit %d", err, got, tc.exit)
			}
			if err == nil {
				return
			}
			var refused *outcome.RefusedError
			if tc.exit == outcome.ExitRefused && (!errors.As(err, &refused) || refused.Reason != "file-in-use") {
				t.Fatalf("err = %#v, want reason file-in-use", err)
			}
			for _, s := range tc.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %q, want it to mention %q", err, s)
				}
			}
			if strings.Contains(err.Error(), `f5.py`) {
				t.Errorf("err = %q lists more than five files", err)
			}
		})
	}
}

func TestSystemOnUnix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Windows finder has its own test")
	}
	// An open file on Linux can be renamed: nobody holds it in our sense.
	f := filepath.Join(t.TempDir(), "held")
	fh, err := os.Create(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	hs, err := System().Holders(context.Background(), []string{f})
	if err != nil || len(hs) != 0 {
		t.Fatalf("Holders = %v, %v; want none", hs, err)
	}
}
