package merge

import (
	"bytes"
	"os"
	"testing"
)

// FuzzMerge checks what must hold for any input, without git: no panic, a side that did
// not change yields the other, equal sides merge cleanly to themselves, and a clean
// merge carries no marker line that the inputs did not have. `go test` runs the seeds;
// `go test -fuzz FuzzMerge` explores.
func FuzzMerge(f *testing.F) {
	settings, err := os.ReadFile("testdata/settings.py")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(settings, bytes.Replace(settings, []byte("DEBUG = False"), []byte("DEBUG = True"), 1),
		bytes.Replace(settings, []byte("USE_TZ = True"), []byte("USE_TZ = False"), 1))
	f.Add([]byte("a\r\nb\r\nc"), []byte("a\r\nB\r\nc"), []byte("a\r\nb2\r\nc\r\n"))
	f.Add([]byte(""), []byte("x"), []byte("y\n"))
	f.Add([]byte("\n\n\n"), []byte("\n\n"), []byte("\n\n\n\n"))
	opt := Options{OursLabel: "ours", TheirsLabel: "theirs"}
	f.Fuzz(func(t *testing.T, base, ours, theirs []byte) {
		got := Merge(base, ours, theirs, opt)
		if got.Merged == nil {
			t.Fatal("nil merge")
		}
		if bytes.Equal(base, ours) && (!got.Clean() || !bytes.Equal(got.Merged, theirs)) {
			t.Fatalf("ours unchanged: want theirs %q, got %q", theirs, got.Merged)
		}
		if bytes.Equal(base, theirs) && (!got.Clean() || !bytes.Equal(got.Merged, ours)) {
			t.Fatalf("theirs unchanged: want ours %q, got %q", ours, got.Merged)
		}
		if same := Merge(base, ours, ours, opt); !same.Clean() || !bytes.Equal(same.Merged, ours) {
			t.Fatalf("equal sides: want %q, got %q", ours, same.Merged)
		}
		for i, c := range got.Conflicts {
			m := splitLines(got.Merged)
			if c.Marker >= len(m) || !bytes.HasPrefix(m[c.Marker], []byte("<<<<<<< ours")) {
				t.Fatalf("conflict %d: no marker at line %d", i, c.Marker)
			}
		}
	})
}
