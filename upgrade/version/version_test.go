package version

import (
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"1.1.6.3", "1.1.6.3", false},
		{"1.1.6.3fix3", "1.1.6.3fix3", false},
		{"1.10.0.0", "1.10.0.0", false},
		{"0.0.0.0", "0.0.0.0", false},
		{"1.2.0.0hotfix", "1.2.0.0hotfix", false},
		{"1.2.0", "", true},
		{"1.2.0.0.0", "", true},
		{"v1.2.0.0", "", true},
		{"", "", true},
		{"1..0.0", "", true},
		{"1.2.0.-1", "", true},
		{"1.2.0.0 ", "", true},
		{"1.2.0.0fix3a", "", true},
		{"1.2.0.01x", "", true},
		{"1.2.0.1000", "", true},
		{"+1.2.0.0", "", true},
	}
	for _, tt := range tests {
		v, err := Parse(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", tt.in, v)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if v.String() != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, v, tt.want)
		}
	}
}

func TestParseErrorNamesInput(t *testing.T) {
	_, err := Parse("v1.2.0.0")
	if err == nil || !strings.Contains(err.Error(), `"v1.2.0.0"`) {
		t.Fatalf("error %v does not name the input", err)
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.10.0.0", "1.9.0.0", 1},
		{"1.1.6.1", "1.1.6.3", -1},
		{"1.1.6.3", "1.1.6.3fix1", -1},
		{"1.1.6.3fix3", "1.1.6.3fix10", -1},
		{"1.1.6.3fix10", "1.1.6.4", -1},
		{"1.1.6.3fix", "1.1.6.3fix1", -1},
		{"1.1.6.3alpha9", "1.1.6.3fix1", -1},
		{"1.2.0.0", "1.2.0.0", 0},
		{"2.0.0.0", "1.99.99.99", 1},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.Compare(a); got != -tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestNum(t *testing.T) {
	if got := MustParse("1.1.6.3fix2").Num(); got != "001001006003" {
		t.Fatalf("Num = %s", got)
	}
}

func TestGate(t *testing.T) {
	tests := []struct {
		name              string
		installed, update string
		from              string
		allowed           bool
		reason            outcome.Reason
		requires          string
	}{
		// The seed's vectors (SPEC 4.1 table).
		{"fix release", "1.1.6.1", "1.1.6.3", "", true, ReasonFixRelease, ""},
		{"next feature", "1.1.6.1", "1.2.0.0", "", true, ReasonFeatureRelease, ""},
		{"fix of next feature", "1.1.6.1", "1.2.0.1", "", false, ReasonNeedsFirstRelease, "1.2.0.0"},
		{"latest from 1.1.4.0", "1.1.4.0", "1.2.0.0", "", true, ReasonFeatureRelease, ""},
		{"climb to 1.1.4.0", "1.1.3.2", "1.1.4.0", "", true, ReasonClimb, ""},
		{"past 1.1.4.0 from below", "1.1.3.2", "1.2.0.0", "", false, ReasonNeedsStepping, "1.1.4.0"},
		{"same version", "1.2.0.0", "1.2.0.0", "", false, ReasonAlreadyInstalled, ""},
		{"downgrade", "1.2.0.1", "1.2.0.0", "", false, ReasonDowngrade, ""},
		// Numeric order and labels.
		{"numeric minor", "1.9.0.0", "1.10.0.0", "", true, ReasonFeatureRelease, ""},
		{"labelled first release counts as first", "1.1.6.1", "1.2.0.0fix1", "", true, ReasonFeatureRelease, ""},
		{"hotfix of installed", "1.1.6.3", "1.1.6.3fix3", "", true, ReasonFixRelease, ""},
		{"same labelled version", "1.1.6.3fix3", "1.1.6.3fix3", "", false, ReasonAlreadyInstalled, ""},
		{"older hotfix label", "1.1.6.3fix3", "1.1.6.3fix1", "", false, ReasonDowngrade, ""},
		{"fix of later line needs its first", "1.1.4.0", "1.1.6.2", "", false, ReasonNeedsFirstRelease, "1.1.6.0"},
		{"skip several feature lines from 1.1.4.0 on", "1.1.4.2", "1.3.0.0", "", true, ReasonFeatureRelease, ""},
		{"major release", "1.2.0.3", "2.0.0.0", "", true, ReasonFeatureRelease, ""},
		// Below 1.1.4.0.
		{"climb to an intermediate first release", "1.1.2.0", "1.1.3.0", "", true, ReasonClimb, ""},
		{"below: fix of another line", "1.1.2.0", "1.1.3.1", "", false, ReasonNeedsFirstRelease, "1.1.3.0"},
		{"below: fix of 1.1.4 line", "1.1.3.2", "1.1.4.1", "", false, ReasonNeedsFirstRelease, "1.1.4.0"},
		{"below: labelled 1.1.4.0", "1.1.3.2", "1.1.4.0fix1", "", true, ReasonClimb, ""},
		{"below: same line fix", "1.1.3.0", "1.1.3.2", "", true, ReasonFixRelease, ""},
		// Packages that state their from line.
		{"from matches", "1.1.6.1", "1.2.0.0", "1.1.6", true, ReasonFromLine, ""},
		{"from matches a fix release", "1.1.6.1", "1.2.0.1", "1.1.6", true, ReasonFromLine, ""},
		{"from: below the line", "1.1.5.2", "1.2.0.0", "1.1.6", false, ReasonNeedsFromLine, "1.1.6.0"},
		{"from: below 1.1.4.0", "1.1.3.2", "1.2.0.0", "1.1.6", false, ReasonNeedsStepping, "1.1.4.0"},
		{"from: past the line", "1.1.7.0", "1.2.0.0", "1.1.6", false, ReasonFromMismatch, ""},
		{"from: already installed wins", "1.2.0.0", "1.2.0.0", "1.1.6", false, ReasonAlreadyInstalled, ""},
		{"from: downgrade wins", "1.2.0.1", "1.2.0.0", "1.1.6", false, ReasonDowngrade, ""},
		{"from: same line fix above from", "1.2.0.0", "1.2.0.1", "1.1.6", false, ReasonFromMismatch, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var from *Line
			if tt.from != "" {
				l, err := ParseLine(tt.from)
				if err != nil {
					t.Fatal(err)
				}
				from = &l
			}
			v := Gate(MustParse(tt.installed), MustParse(tt.update), from)
			if v.Allowed != tt.allowed || v.Reason != tt.reason {
				t.Fatalf("Gate(%s, %s, from %q) = %+v, want allowed=%v reason=%s", tt.installed, tt.update, tt.from, v, tt.allowed, tt.reason)
			}
			got := ""
			if v.Requires != nil {
				got = v.Requires.String()
			}
			if got != tt.requires {
				t.Fatalf("requires = %q, want %q", got, tt.requires)
			}
			if err := v.Err(MustParse(tt.installed), MustParse(tt.update)); (err == nil) != tt.allowed {
				t.Fatalf("Err = %v for allowed=%v", err, tt.allowed)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.1.6.3", "1.1.6.3fix3", "v1.2.0.0", "1.2.0", "1.2.0.0.0", "", "9.9.9.9zz99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		// A parsed version prints back to itself and parses to the same value.
		if v.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, v.String())
		}
		w, err := Parse(v.String())
		if err != nil || w.Compare(v) != 0 {
			t.Fatalf("round trip of %q: %v %v", s, w, err)
		}
	})
}
