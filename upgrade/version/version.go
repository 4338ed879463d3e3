// Package version parses OMFLOW version numbers (a.b.c.d with an optional hotfix label,
// as in 1.1.6.3fix3) and decides which updates an installation may take.
package version

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an OMFLOW release number. a and b grow on major releases, c on feature
// releases, d on fix releases. Label is an optional hotfix label ("fix3").
type Version struct {
	Major, Minor, Feature, Fix int
	Label                      string
}

// Line is a feature version, the first three parts of a release number.
type Line struct{ Major, Minor, Feature int }

// maxPart bounds each part so that Num's three-digit padding and arithmetic stay sane.
const maxPart = 999

// Parse reads "a.b.c.d" with an optional hotfix label that starts with a letter.
func Parse(s string) (Version, error) {
	num, label := splitLabel(s)
	parts, err := parseParts(num, 4)
	if err != nil {
		return Version{}, fmt.Errorf("version %q: %w (want four numbers a.b.c.d, optionally followed by a hotfix label such as fix3)", s, err)
	}
	if label != "" {
		if err := checkLabel(label); err != nil {
			return Version{}, fmt.Errorf("version %q: %w", s, err)
		}
	}
	return Version{parts[0], parts[1], parts[2], parts[3], label}, nil
}

// MustParse is Parse for constants; it panics on a malformed version.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// ParseLine reads a feature version "a.b.c".
func ParseLine(s string) (Line, error) {
	parts, err := parseParts(s, 3)
	if err != nil {
		return Line{}, fmt.Errorf("feature version %q: %w (want three numbers a.b.c)", s, err)
	}
	return Line{parts[0], parts[1], parts[2]}, nil
}

func splitLabel(s string) (num, label string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

func parseParts(s string, want int) ([]int, error) {
	fields := strings.Split(s, ".")
	if len(fields) != want {
		return nil, fmt.Errorf("has %d parts", len(fields))
	}
	parts := make([]int, want)
	for i, f := range fields {
		if f == "" || strings.TrimLeft(f, "0123456789") != "" {
			return nil, fmt.Errorf("part %d (%q) is not a number", i+1, f)
		}
		if len(f) > 1 && f[0] == '0' {
			return nil, fmt.Errorf("part %d (%q) has a leading zero", i+1, f)
		}
		n, err := strconv.Atoi(f)
		if err != nil || n > maxPart {
			return nil, fmt.Errorf("part %d (%q) is larger than %d", i+1, f, maxPart)
		}
		parts[i] = n
	}
	return parts, nil
}

// checkLabel accepts letters followed by an optional number: fix, fix3, hotfix12.
func checkLabel(label string) error {
	letters, digits := labelParts(label)
	if letters == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return fmt.Errorf("hotfix label %q must be letters followed by an optional number", label)
	}
	if len(digits) > 9 {
		return fmt.Errorf("hotfix label %q has too large a number", label)
	}
	return nil
}

func labelParts(label string) (letters, digits string) {
	i := 0
	for i < len(label) && ((label[i] >= 'a' && label[i] <= 'z') || (label[i] >= 'A' && label[i] <= 'Z')) {
		i++
	}
	return label[:i], label[i:]
}

// String gives the version as OMFLOW writes it.
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d.%d%s", v.Major, v.Minor, v.Feature, v.Fix, v.Label)
}

// Num is the version_num form of version.bin: each part zero-padded to three digits.
func (v Version) Num() string {
	return fmt.Sprintf("%03d%03d%03d%03d", v.Major, v.Minor, v.Feature, v.Fix)
}

// Line is the feature version the release belongs to; a label never changes it.
func (v Version) Line() Line { return Line{v.Major, v.Minor, v.Feature} }

// IsFirstRelease says whether v is the first release of its feature version (d = 0, with
// or without a hotfix label).
func (v Version) IsFirstRelease() bool { return v.Fix == 0 }

// WithoutLabel drops the hotfix label.
func (v Version) WithoutLabel() Version { v.Label = ""; return v }

// Compare orders versions numerically; a labelled version sorts just after the same
// number without a label, and labels compare by letters, then number (fix3 < fix10).
func (v Version) Compare(w Version) int {
	if c := v.Line().Compare(w.Line()); c != 0 {
		return c
	}
	if c := cmpInt(v.Fix, w.Fix); c != 0 {
		return c
	}
	return compareLabels(v.Label, w.Label)
}

func compareLabels(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	al, ad := labelParts(a)
	bl, bd := labelParts(b)
	if c := strings.Compare(strings.ToLower(al), strings.ToLower(bl)); c != 0 {
		return c
	}
	an, _ := strconv.Atoi(ad)
	bn, _ := strconv.Atoi(bd)
	if c := cmpInt(an, bn); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// Less reports whether v sorts before w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// String gives the feature version as a.b.c.
func (l Line) String() string { return fmt.Sprintf("%d.%d.%d", l.Major, l.Minor, l.Feature) }

// First is the first release of the feature version, a.b.c.0.
func (l Line) First() Version { return Version{Major: l.Major, Minor: l.Minor, Feature: l.Feature} }

// Compare orders feature versions numerically.
func (l Line) Compare(m Line) int {
	if c := cmpInt(l.Major, m.Major); c != 0 {
		return c
	}
	if c := cmpInt(l.Minor, m.Minor); c != 0 {
		return c
	}
	return cmpInt(l.Feature, m.Feature)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
