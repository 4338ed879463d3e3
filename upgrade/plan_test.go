package upgrade

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

func cands(t *testing.T, specs ...string) []candidate {
	t.Helper()
	var out []candidate
	for _, s := range specs {
		v, from, _ := strings.Cut(s, "<")
		c := candidate{path: "omflow_update_" + v + ".tar.gz", v: version.MustParse(v)}
		if from != "" {
			l, err := version.ParseLine(from)
			if err != nil {
				t.Fatal(err)
			}
			c.from = &l
		}
		out = append(out, c)
	}
	return out
}

func TestChain(t *testing.T) {
	tests := []struct {
		name      string
		installed string
		folder    []string // "version" or "version<from"
		to        string
		want      string // steps joined by " ", or "!reason requires"
	}{
		{"fix release", "1.1.6.1", []string{"1.1.6.3"}, "", "1.1.6.3"},
		{"newest in one go from 1.1.4.0 on", "1.1.6.1", []string{"1.1.6.3", "1.2.0.0", "1.3.0.0"}, "", "1.3.0.0"},
		{"fix of the newest line needs its first", "1.1.6.1", []string{"1.2.0.0", "1.2.0.1", "1.2.0.3"}, "", "1.2.0.0 1.2.0.3"},
		{"across the 1.1.4.0 step", "1.1.3.2", []string{"1.1.4.0", "1.2.0.0", "1.2.0.1"}, "", "1.1.4.0 1.2.0.0 1.2.0.1"},
		{"below 1.1.4.0 every feature version held", "1.1.1.0", []string{"1.1.2.0", "1.1.3.0", "1.1.4.0", "1.2.0.0"}, "", "1.1.2.0 1.1.3.0 1.1.4.0 1.2.0.0"},
		{"below 1.1.4.0 fix release of a line held", "1.1.2.0", []string{"1.1.3.0", "1.1.3.2", "1.1.4.0"}, "", "1.1.3.0 1.1.4.0"},
		{"across a from line", "1.1.5.2", []string{"1.1.6.0", "1.1.6.4", "1.2.0.0<1.1.6"}, "", "1.1.6.0 1.2.0.0"},
		{"from line reached by its fix release", "1.1.6.1", []string{"1.2.0.0<1.1.6"}, "", "1.2.0.0"},
		{"to a chosen version", "1.1.6.1", []string{"1.2.0.0", "1.2.0.1", "1.3.0.0"}, "1.2.0.1", "1.2.0.0 1.2.0.1"},
		{"already at the newest", "1.3.0.0", []string{"1.2.0.0", "1.3.0.0"}, "", ""},
		{"already at the chosen", "1.2.0.0", []string{"1.2.0.0", "1.3.0.0"}, "1.2.0.0", ""},
		{"missing 1.1.4.0", "1.1.3.2", []string{"1.2.0.0", "1.2.0.1"}, "", "!missing-step 1.1.4.0"},
		{"missing first release", "1.1.6.1", []string{"1.2.0.1"}, "", "!missing-step 1.2.0.0"},
		{"missing from line", "1.1.5.0", []string{"1.2.0.0<1.1.6"}, "", "!missing-step 1.1.6.0"},
		{"below 1.1.4.0 a held line lacks its first release", "1.1.2.0", []string{"1.1.3.1", "1.1.4.0"}, "", "!missing-step 1.1.3.0"},
		{"past the from line", "1.1.7.0", []string{"1.2.0.0<1.1.6"}, "", "!from-mismatch "},
		{"chosen version not in the folder", "1.1.6.1", []string{"1.2.0.0"}, "1.2.0.1", "!target-missing 1.2.0.1"},
		{"downgrade", "1.3.0.0", []string{"1.2.0.0"}, "", "!downgrade "},
		{"empty folder", "1.1.6.1", nil, "", "!no-packages "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want *version.Version
			if tt.to != "" {
				v := version.MustParse(tt.to)
				want = &v
			}
			steps, refused := chain(version.MustParse(tt.installed), cands(t, tt.folder...), want)
			got := ""
			if refused != nil {
				got = "!" + string(refused.Reason) + " " + refused.Requires
			} else {
				var vs []string
				for _, s := range steps {
					vs = append(vs, s.v.String())
				}
				got = strings.Join(vs, " ")
			}
			if got != tt.want {
				t.Fatalf("chain from %s over %v: %q, want %q", tt.installed, tt.folder, got, tt.want)
			}
		})
	}
}

func TestPlanLeavesOutBadPackages(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	dir := t.TempDir()
	link := func(p string) string {
		dst := filepath.Join(dir, filepath.Base(p))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dst, b, 0o644)
		return dst
	}
	first := link(buildPackage(t, release{version: "1.2.0.0", files: map[string]string{"server/omflow/views.py": "# 1.2.0.0\n"}}))
	fix := link(buildPackage(t, release{version: "1.2.0.1", files: map[string]string{"server/omflow/views.py": "# 1.2.0.1\n"}}))
	// A tampered 1.3.0.0: one byte of the archive changed.
	bad := link(buildPackage(t, release{version: "1.3.0.0", files: map[string]string{"server/omflow/views.py": strings.Repeat("# 1.3.0.0\n", 100)}}))
	b, _ := os.ReadFile(bad)
	b[len(b)-40] ^= 0xff
	os.WriteFile(bad, b, 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("release notes\n"), 0o644)
	before := snapshot(t, in.Root)

	r, err := openSession(t, options(t, in)).Plan(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Target != "1.2.0.1" || len(r.Steps) != 2 || r.Steps[0].Package != first || r.Steps[1].Package != fix {
		t.Fatalf("plan %+v", r)
	}
	skipped := map[string]bool{}
	for _, s := range r.Skipped {
		skipped[filepath.Base(s.Package)] = s.Reason != ""
	}
	if !skipped[filepath.Base(bad)] || !skipped["notes.txt"] {
		t.Fatalf("skipped %+v, want the tampered package and notes.txt with reasons", r.Skipped)
	}
	sameTree(t, before, snapshot(t, in.Root))

	_, err = openSession(t, options(t, in)).Plan(context.Background(), dir, "1.3.0.0")
	if outcome.ExitCode(err) != outcome.ExitRefused {
		t.Fatalf("plan to the tampered version: %v", err)
	}
}

func TestApplyChainHopByHop(t *testing.T) {
	in := newDemo(t, "", "1.1.3.2")
	dir := t.TempDir()
	put := func(p string) {
		b, _ := os.ReadFile(p)
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	}
	payloads := []release{
		{version: "1.1.4.0", files: map[string]string{"server/omflow/views.py": "# 1.1.4.0\n", "server/omflow/a.py": "a1\n", "server/omflow/b.py": "b1\n"}},
		{version: "1.2.0.0", files: map[string]string{"server/omflow/a.py": "a2\n", "server/omflow/c.py": "c2\n"}, delete: []string{"server/omflow/b.py"}},
		{version: "1.2.0.1", files: map[string]string{"server/omflow/c.py": "c3\n", "server/omflow/d/e.py": "e3\n"}, delete: []string{"server/omflow/urls.py"}},
	}
	for _, r := range payloads {
		put(buildPackage(t, r))
	}
	// What the tree must be: the demo's, with the three payloads applied in order.
	want := snapshot(t, in.Root)
	scratch := t.TempDir()
	for rel := range want {
		src := filepath.Join(in.Root, filepath.FromSlash(rel))
		if st, err := os.Stat(src); err == nil && st.Mode().IsRegular() {
			b, _ := os.ReadFile(src)
			dst := filepath.Join(scratch, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(dst), 0o755)
			os.WriteFile(dst, b, st.Mode().Perm())
		}
	}
	for _, r := range payloads {
		for rel, content := range r.files {
			dst := filepath.Join(scratch, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(dst), 0o755)
			os.WriteFile(dst, []byte(content), 0o644)
		}
		for _, d := range r.delete {
			os.Remove(filepath.Join(scratch, filepath.FromSlash(d)))
		}
	}
	os.WriteFile(filepath.Join(scratch, "server/omflow/syscom/version.bin"), []byte("version=1.2.0.1\nversion_num=001002000001\n"), 0o644)

	r, err := openSession(t, options(t, in)).ApplyChain(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "1.2.0.1" || len(r.Hops) != 3 {
		t.Fatalf("report %+v", r)
	}
	for _, h := range r.Hops {
		if !h.OK || h.Log == "" {
			t.Fatalf("hop %+v", h)
		}
		if _, err := os.Stat(h.Log); err != nil {
			t.Fatalf("hop log: %v", err)
		}
	}
	// File by file (content and mode); folders' modes are the demo's own.
	sameTree(t, filesOnly(snapshot(t, scratch)), filesOnly(snapshot(t, in.Root)))
	answers(t, in, "1.2.0.1")
	st, _ := openSession(t, options(t, in)).Status(context.Background())
	if len(st.Backups) != 3 {
		t.Fatalf("backups %+v", st.Backups)
	}
}

func TestApplyChainStopsAtAFailingHop(t *testing.T) {
	in := newDemo(t, "", "1.1.6.1")
	dir := t.TempDir()
	for _, r := range []release{
		{version: "1.2.0.0", files: map[string]string{"server/omflow/views.py": "# 1.2.0.0\n"}},
		{version: "1.2.0.1", files: map[string]string{"server/omflow/views.py": "# 1.2.0.1\n", "server/omflow_server": failingControl},
			modes: map[string]os.FileMode{"server/omflow_server": 0o755}},
	} {
		p := buildPackage(t, r)
		b, _ := os.ReadFile(p)
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	}
	r, err := openSession(t, options(t, in)).ApplyChain(context.Background(), dir, "")
	if outcome.ExitCode(err) != outcome.ExitRolledBack {
		t.Fatalf("exit %d: %v", outcome.ExitCode(err), err)
	}
	if r.Version != "1.2.0.0" || len(r.Hops) != 2 || !r.Hops[0].OK || r.Hops[1].OK || r.Hops[1].Error == "" {
		t.Fatalf("report %+v", r)
	}
	answers(t, in, "1.2.0.0")
	if b, _ := os.ReadFile(filepath.Join(in.Root, "server/omflow/views.py")); string(b) != "# 1.2.0.0\n" {
		t.Fatalf("views.py %q: the first hop must stay", b)
	}
}

// filesOnly keeps the regular files of a snapshot, leaving out omflow-upgrade.json (the
// demo's port differs between demos).
func filesOnly(snap map[string]string) map[string]string {
	out := map[string]string{}
	for p, v := range snap {
		if !strings.HasSuffix(v, " ") && p != "omflow-upgrade.json" {
			out[p] = v
		}
	}
	return out
}
