package merge

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// randomEdit changes a few places of lines: replaced, deleted or inserted lines. New
// text is drawn from pool, so both sides sometimes make the same change and sometimes
// insert lines equal to existing ones (blank lines, brackets), which is where line
// matching is ambiguous.
func randomEdit(r *rand.Rand, lines []string, pool []string) []string {
	out := append([]string(nil), lines...)
	for range 1 + r.IntN(3) {
		pick := func() string { return pool[r.IntN(len(pool))] }
		at := r.IntN(len(out) + 1)
		switch r.IntN(4) {
		case 0: // replace
			if at < len(out) {
				out[at] = pick()
			}
		case 1: // delete
			n := 1 + r.IntN(3)
			out = append(out[:at], out[min(at+n, len(out)):]...)
		default: // insert
			var ins []string
			for range 1 + r.IntN(3) {
				ins = append(ins, pick())
			}
			out = append(out[:at], append(ins, out[at:]...)...)
		}
	}
	return out
}

func joinLines(lines []string, eol string, final bool) []byte {
	s := strings.Join(lines, eol)
	if final && len(lines) > 0 {
		s += eol
	}
	return []byte(s)
}

// TestMergeRandomAgainstGit merges random small edits of both sides and wants git's
// bytes and conflict count, on a settings.py window and on files made of a handful of
// distinct lines (the hardest case for matching git's choice among equal diffs).
func TestMergeRandomAgainstGit(t *testing.T) {
	settings, err := os.ReadFile("testdata/settings.py")
	if err != nil {
		t.Fatal(err)
	}
	settingsLines := strings.Split(strings.TrimSuffix(string(settings), "\n"), "\n")
	settingsPool := []string{"", "]", "}", "    },", "DEBUG = True", "DEBUG = False",
		"ALLOWED_HOSTS = ['*']", "    'omflow.example.com',", "TIME_ZONE = 'UTC'",
		"# local change", "SESSION_COOKIE_AGE = 600", "    'django.contrib.admindocs',"}
	tinyPool := []string{"a", "b", "c", "", "}"}

	git := newGitMerger(t)
	r := rand.New(rand.NewPCG(11, 4))
	iterations := 400
	if testing.Short() {
		iterations = 50
	}
	opt := Options{OursLabel: "installed", TheirsLabel: "package"}
	for n := range iterations {
		var base []string
		var pool []string
		if n%2 == 0 {
			size := 5 + r.IntN(20)
			start := r.IntN(len(settingsLines) - size)
			base = settingsLines[start : start+size]
			pool = settingsPool
		} else {
			for range r.IntN(12) {
				base = append(base, tinyPool[r.IntN(len(tinyPool))])
			}
			pool = tinyPool
		}
		ours, theirs := randomEdit(r, base, pool), randomEdit(r, base, pool)
		eol := "\n"
		if r.IntN(5) == 0 {
			eol = "\r\n"
		}
		finals := [3]bool{true, true, true}
		if r.IntN(4) == 0 {
			finals[r.IntN(3)] = false
		}
		b, o, th := joinLines(base, eol, finals[0]), joinLines(ours, eol, finals[1]), joinLines(theirs, eol, finals[2])

		want, wantConflicts := git.merge(t, b, o, th, opt)
		got := Merge(b, o, th, opt)
		if !bytes.Equal(got.Merged, want) || len(got.Conflicts) != wantConflicts {
			t.Fatalf("case %d differs from git merge-file\nbase:\n%q\nours:\n%q\ntheirs:\n%q\ngit (%d conflicts):\n%s\ngot (%d conflicts):\n%s",
				n, b, o, th, wantConflicts, want, len(got.Conflicts), got.Merged)
		}
	}
}
