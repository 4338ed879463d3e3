package merge

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from git merge-file")

// edit changes the lines of a file (without their line ends).
type edit func(t *testing.T, lines []string) []string

func find(t *testing.T, lines []string, line string) int {
	t.Helper()
	i := slices.Index(lines, line)
	if i < 0 {
		t.Fatalf("fixture has no line %q", line)
	}
	return i
}

// sub replaces the line old with the lines new.
func sub(old string, new ...string) edit {
	return func(t *testing.T, lines []string) []string {
		i := find(t, lines, old)
		return slices.Concat(lines[:i], new, lines[i+1:])
	}
}

// after inserts lines after the line anchor.
func after(anchor string, added ...string) edit {
	return func(t *testing.T, lines []string) []string {
		i := find(t, lines, anchor)
		return slices.Concat(lines[:i+1], added, lines[i+1:])
	}
}

// drop deletes n lines from the line first on.
func drop(first string, n int) edit {
	return func(t *testing.T, lines []string) []string {
		i := find(t, lines, first)
		return slices.Concat(lines[:i], lines[i+n:])
	}
}

func prepend(added ...string) edit {
	return func(_ *testing.T, lines []string) []string { return slices.Concat(added, lines) }
}

func appendLines(added ...string) edit {
	return func(_ *testing.T, lines []string) []string { return slices.Concat(lines, added) }
}

// replaceAll replaces the whole file.
func replaceAll(added ...string) edit {
	return func(*testing.T, []string) []string { return added }
}

// file describes one input: edits applied to the settings.py fixture, then encoded.
type file struct {
	edits   []edit
	noFinal bool // leave out the final line end
}

func (f file) bytes(t *testing.T, fixture []string, eol string) []byte {
	lines := append([]string(nil), fixture...)
	for _, e := range f.edits {
		lines = e(t, lines)
	}
	return joinLines(lines, eol, !f.noFinal)
}

func readFixture(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("testdata/settings.py")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestMergeMatchesGit(t *testing.T) {
	var (
		empty       = []edit{replaceAll()}
		secretKey   = sub("SECRET_KEY = 'django-insecure-0m!fl0w-r3pl4c3-th15-k3y-b3f0r3-g01ng-l1v3'", "SECRET_KEY = 'k8#site-own-secret'")
		sessionAge  = sub("SESSION_COOKIE_AGE = 3600", "SESSION_COOKIE_AGE = 1800")
		siteHost    = after("    '127.0.0.1',", "    'omflow.example.com',")
		english     = sub("    ('en', 'English'),", "    ('en', 'English (US)'),")
		traditional = sub("    ('zh-hant', '繁體中文'),", "    ('zh-hant', '中文（台灣）'),")
		postgres    = sub("        'ENGINE': 'django.db.backends.sqlite3',",
			"        'ENGINE': 'django.db.backends.postgresql',",
			"        'HOST': 'db.example.com',")
		timeout60 = sub("            'timeout': 20,", "            'timeout': 60,")
		timeout30 = sub("            'timeout': 20,", "            'timeout': 30,")
		debugOn   = sub("DEBUG = False", "DEBUG = True")
	)
	tests := []struct {
		name               string
		base, ours, theirs file
		crlf               bool
		conflicts          int
	}{
		{name: "far-apart", ours: file{edits: []edit{secretKey}}, theirs: file{edits: []edit{sessionAge}}},
		{name: "adjacent-lines", ours: file{edits: []edit{english}}, theirs: file{edits: []edit{traditional}}, conflicts: 1},
		{name: "one-line-between", ours: file{edits: []edit{sub("    ('en', 'English'),", "    ('en', 'English (US)'),")}},
			theirs: file{edits: []edit{sub("    ('zh-hans', '简体中文'),", "    ('zh-hans', '中文（中国）'),")}}},
		{name: "same-edit-both", ours: file{edits: []edit{siteHost, debugOn}}, theirs: file{edits: []edit{siteHost}}},
		{name: "ours-only", ours: file{edits: []edit{secretKey, siteHost}}},
		{name: "theirs-only", theirs: file{edits: []edit{postgres, sessionAge}}},
		{name: "insert-start-and-end", ours: file{edits: []edit{prepend("# -*- coding: utf-8 -*-")}},
			theirs: file{edits: []edit{appendLines("", "DATA_UPLOAD_MAX_MEMORY_SIZE = 10485760")}}},
		{name: "insert-end-both", ours: file{edits: []edit{appendLines("CSRF_TRUSTED_ORIGINS = ['https://omflow.example.com']")}},
			theirs: file{edits: []edit{appendLines("", "DATA_UPLOAD_MAX_MEMORY_SIZE = 10485760")}}, conflicts: 1},
		{name: "deletions", ours: file{edits: []edit{drop("    'django.middleware.locale.LocaleMiddleware',", 1)}},
			theirs: file{edits: []edit{drop("LOCALE_PATHS = [", 4)}}},
		{name: "delete-vs-edit", ours: file{edits: []edit{drop("LANGUAGES = [", 7)}}, theirs: file{edits: []edit{english}}, conflicts: 1},
		{name: "conflict-databases", ours: file{edits: []edit{postgres, timeout30}}, theirs: file{edits: []edit{timeout60, secretKey}}, conflicts: 1},
		// Both sides change the same two lines and agree on one: only the other conflicts.
		{name: "conflict-refined", ours: file{edits: []edit{english, sub("    ('zh-hant', '繁體中文'),", "    ('zh-hant', 'Chinese (Taiwan)'),")}},
			theirs: file{edits: []edit{english, traditional}}, conflicts: 1},
		// The inserted block could go before or after a blank line; git puts it as low as
		// it slides, right above the line theirs changed.
		{name: "insert-slides-down", ours: file{edits: []edit{after("ROOT_URLCONF = 'omflow.urls'", "", "CSRF_COOKIE_SECURE = True")}},
			theirs: file{edits: []edit{sub("WSGI_APPLICATION = 'omflow.wsgi.application'", "WSGI_APPLICATION = 'omflow.wsgi.app'")}}, conflicts: 1},
		// Ours rewrites two blocks around one blank line. A blank line is so common that
		// git does not anchor on it amid rewritten lines: ours is one hunk, and theirs'
		// edit in the first block conflicts with all of it.
		{name: "rewrite-around-blank-line",
			ours: file{edits: []edit{
				drop("    'omflow',", 5),
				after("    'django.contrib.staticfiles',", "    'omflow.apps.OmflowConfig',", "    'omformflow.apps.OmformflowConfig',",
					"    'omuser.apps.OmuserConfig',", "    'omservice.apps.OmserviceConfig',", "]  # apps"),
				drop("MIDDLEWARE = [", 4),
				sub("    'django.middleware.common.CommonMiddleware',", "MIDDLEWARE = (", "    'django.middleware.security.SecurityMiddleware',  # first",
					"    'django.contrib.sessions.middleware.SessionMiddleware',  # sessions", "    'django.middleware.locale.LocaleMiddleware',  # i18n",
					"    'django.middleware.common.CommonMiddleware',"),
			}},
			theirs:    file{edits: []edit{sub("    'omservice',", "    'omservice.apps.ServiceConfig',")}},
			conflicts: 1},
		{name: "conflicts-joined-over-brackets",
			ours:      file{edits: []edit{timeout30, sub("# Internationalization", "# i18n")}},
			theirs:    file{edits: []edit{timeout60, sub("# Internationalization", "# Languages")}},
			conflicts: 1},
		{name: "conflicts-kept-apart",
			ours:      file{edits: []edit{english, secretKey}},
			theirs:    file{edits: []edit{traditional, sub("SECRET_KEY = 'django-insecure-0m!fl0w-r3pl4c3-th15-k3y-b3f0r3-g01ng-l1v3'", "SECRET_KEY = 'other'")}},
			conflicts: 2},
		{name: "crlf-clean", ours: file{edits: []edit{secretKey}}, theirs: file{edits: []edit{sessionAge}}, crlf: true},
		{name: "crlf-conflict", ours: file{edits: []edit{timeout30}}, theirs: file{edits: []edit{timeout60}}, crlf: true, conflicts: 1},
		{name: "no-final-newline-ours", ours: file{edits: []edit{secretKey}, noFinal: true}, theirs: file{edits: []edit{debugOn}}},
		{name: "no-final-newline-theirs-edit-end", theirs: file{edits: []edit{sessionAge}, noFinal: true}, ours: file{edits: []edit{siteHost}}},
		{name: "no-final-newline-all", base: file{noFinal: true}, ours: file{edits: []edit{secretKey}, noFinal: true},
			theirs: file{edits: []edit{debugOn}, noFinal: true}},
		{name: "no-final-newline-conflict", base: file{noFinal: true},
			ours:   file{edits: []edit{sessionAge}, noFinal: true},
			theirs: file{edits: []edit{sub("SESSION_COOKIE_AGE = 3600", "SESSION_COOKIE_AGE = 600")}, noFinal: true}, conflicts: 1},
		{name: "no-final-newline-conflict-crlf", base: file{noFinal: true}, crlf: true,
			ours:   file{edits: []edit{sessionAge}, noFinal: true},
			theirs: file{edits: []edit{sub("SESSION_COOKIE_AGE = 3600", "SESSION_COOKIE_AGE = 600")}}, conflicts: 1},
		{name: "final-newline-added-vs-edit", base: file{noFinal: true}, ours: file{}, theirs: file{edits: []edit{debugOn}, noFinal: true}},
		{name: "empty-base", base: file{edits: empty}, ours: file{edits: empty}, theirs: file{}},
		{name: "empty-base-both-add", base: file{edits: empty}, ours: file{edits: []edit{replaceAll("DEBUG = True")}},
			theirs: file{}, conflicts: 1},
		{name: "all-empty", base: file{edits: empty}, ours: file{edits: empty}, theirs: file{edits: empty}},
		{name: "ours-emptied-theirs-edited", ours: file{edits: empty}, theirs: file{edits: []edit{debugOn}}, conflicts: 1},
	}

	fixture := readFixture(t)
	git := newGitMerger(t)
	opt := Options{OursLabel: "installed", TheirsLabel: "package"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eol := "\n"
			if tt.crlf {
				eol = "\r\n"
			}
			base, ours, theirs := tt.base.bytes(t, fixture, eol), tt.ours.bytes(t, fixture, eol), tt.theirs.bytes(t, fixture, eol)
			want, wantConflicts := git.merge(t, base, ours, theirs, opt)

			golden := filepath.Join("testdata", "golden", tt.name+".txt")
			if *update {
				if err := os.WriteFile(golden, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			stored, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(stored, want) {
				t.Errorf("git merge-file no longer gives %s; check and run go test -update", golden)
			}
			if wantConflicts != tt.conflicts {
				t.Errorf("git finds %d conflicts, the case expects %d", wantConflicts, tt.conflicts)
			}

			got := Merge(base, ours, theirs, opt)
			if !bytes.Equal(got.Merged, want) {
				t.Errorf("merge differs from git merge-file\ngot:\n%s\nwant:\n%s", got.Merged, want)
			}
			if len(got.Conflicts) != wantConflicts {
				t.Errorf("%d conflicts, git says %d", len(got.Conflicts), wantConflicts)
			}
			checkConflicts(t, got, base, ours, theirs, opt)
		})
	}
}

// checkConflicts holds each reported conflict against the inputs and the merged text.
func checkConflicts(t *testing.T, res Result, base, ours, theirs []byte, opt Options) {
	t.Helper()
	b, o, th, m := splitLines(base), splitLines(ours), splitLines(theirs), splitLines(res.Merged)
	for i, c := range res.Conflicts {
		if !bytes.Equal(c.OursText, bytes.Join(o[c.Ours.Start:c.Ours.End], nil)) ||
			!bytes.Equal(c.TheirsText, bytes.Join(th[c.Theirs.Start:c.Theirs.End], nil)) ||
			!bytes.Equal(c.BaseText, bytes.Join(b[c.Base.Start:c.Base.End], nil)) {
			t.Errorf("conflict %d: texts do not match their spans: %+v", i, c)
		}
		if c.Marker >= len(m) || !bytes.HasPrefix(m[c.Marker], []byte("<<<<<<< "+opt.OursLabel)) {
			t.Errorf("conflict %d: line %d of the merge is not its marker", i, c.Marker)
			continue
		}
		// The ours side follows the marker (line ends aside: a last line may gain one).
		for k := range c.Ours.Len() {
			if got, want := bytes.TrimRight(m[c.Marker+1+k], "\r\n"), bytes.TrimRight(o[c.Ours.Start+k], "\r\n"); !bytes.Equal(got, want) {
				t.Errorf("conflict %d: merged line %d is %q, ours has %q", i, c.Marker+1+k, got, want)
			}
		}
	}
}

func TestMergeConflictSpans(t *testing.T) {
	base := []byte("a\nb\nc\nd\ne\n")
	ours := []byte("a\nB1\nc\nd\ne\n")
	theirs := []byte("a\nB2\nc\nd\nE\n")
	got := Merge(base, ours, theirs, Options{})
	want := "a\n<<<<<<<\nB1\n=======\nB2\n>>>>>>>\nc\nd\nE\n"
	if string(got.Merged) != want {
		t.Fatalf("merged %q, want %q", got.Merged, want)
	}
	wantConflicts := []Conflict{{
		Ours: Span{1, 2}, Theirs: Span{1, 2}, Base: Span{1, 2}, Marker: 1,
		BaseText: []byte("b\n"), OursText: []byte("B1\n"), TheirsText: []byte("B2\n"),
	}}
	if !slices.EqualFunc(got.Conflicts, wantConflicts, func(a, b Conflict) bool {
		return a.Ours == b.Ours && a.Theirs == b.Theirs && a.Base == b.Base && a.Marker == b.Marker &&
			bytes.Equal(a.BaseText, b.BaseText) && bytes.Equal(a.OursText, b.OursText) && bytes.Equal(a.TheirsText, b.TheirsText)
	}) {
		t.Errorf("conflicts %+v, want %+v", got.Conflicts, wantConflicts)
	}
	if got.Clean() {
		t.Error("Clean() on a conflict")
	}
}
