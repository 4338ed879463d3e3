package pyenv

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"
)

// Version is a PEP 440 version, parsed well enough to sort and to say "newer than".
// A string that is not PEP 440 (a "legacy" version) is kept as text and sorts before
// every valid version, as pip's resolver does.
type Version struct {
	raw     string
	valid   bool
	epoch   int
	release []int
	pre     *prePart // nil: no pre-release
	post    int      // -1: none
	dev     int      // -1: none
	local   string
}

type prePart struct {
	kind string // "a", "b", "rc"
	n    int
}

// The PEP 440 appendix's regular expression, case-insensitive.
var pep440 = regexp.MustCompile(`(?i)^\s*v?` +
	`(?:(\d+)!)?` + // epoch
	`(\d+(?:\.\d+)*)` + // release
	`(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?` + // pre
	`(?:(?:-(\d+))|(?:[-_.]?(post|rev|r)[-_.]?(\d+)?))?` + // post
	`(?:[-_.]?(dev)[-_.]?(\d+)?)?` + // dev
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?` + // local
	`\s*$`)

// ParseVersion parses s. It never fails: an invalid version is kept as text (see
// Version.Valid).
func ParseVersion(s string) Version {
	v := Version{raw: s, post: -1, dev: -1}
	m := pep440.FindStringSubmatch(s)
	if m == nil {
		return v
	}
	v.valid = true
	v.epoch = atoi(m[1])
	for _, p := range strings.Split(m[2], ".") {
		v.release = append(v.release, atoi(p))
	}
	if m[3] != "" {
		kind := strings.ToLower(m[3])
		switch kind {
		case "alpha":
			kind = "a"
		case "beta":
			kind = "b"
		case "c", "pre", "preview":
			kind = "rc"
		}
		v.pre = &prePart{kind: kind, n: atoi(m[4])}
	}
	switch {
	case m[5] != "":
		v.post = atoi(m[5])
	case m[6] != "":
		v.post = atoi(m[7])
	}
	if m[8] != "" {
		v.dev = atoi(m[9])
	}
	v.local = strings.ToLower(strings.NewReplacer("-", ".", "_", ".").Replace(m[10]))
	return v
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// Valid reports whether the version is PEP 440.
func (v Version) Valid() bool { return v.valid }

// String is the PEP 440 normal form ("1.0.0-RC1" -> "1.0.0rc1"), the spelling pip list
// prints; an invalid version is returned as it was given.
func (v Version) String() string {
	if !v.valid {
		return v.raw
	}
	var b strings.Builder
	if v.epoch != 0 {
		b.WriteString(strconv.Itoa(v.epoch) + "!")
	}
	for i, r := range v.release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(r))
	}
	if v.pre != nil {
		b.WriteString(v.pre.kind + strconv.Itoa(v.pre.n))
	}
	if v.post >= 0 {
		b.WriteString(".post" + strconv.Itoa(v.post))
	}
	if v.dev >= 0 {
		b.WriteString(".dev" + strconv.Itoa(v.dev))
	}
	if v.local != "" {
		b.WriteString("+" + v.local)
	}
	return b.String()
}

// Compare returns -1, 0 or +1 as v sorts before, with or after w under PEP 440.
func (v Version) Compare(w Version) int {
	switch {
	case !v.valid && !w.valid:
		return strings.Compare(v.raw, w.raw)
	case !v.valid:
		return -1
	case !w.valid:
		return 1
	}
	if c := cmp.Compare(v.epoch, w.epoch); c != 0 {
		return c
	}
	for i := 0; i < len(v.release) || i < len(w.release); i++ {
		if c := cmp.Compare(at(v.release, i), at(w.release, i)); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(v.preRank(), w.preRank()); c != 0 {
		return c
	}
	if v.pre != nil && w.pre != nil {
		if c := cmp.Compare(v.pre.n, w.pre.n); c != 0 {
			return c
		}
	}
	// No post-release sorts before any post-release (post is -1 then).
	if c := cmp.Compare(v.post, w.post); c != 0 {
		return c
	}
	// No dev-release sorts after any dev-release of the same version.
	if c := cmp.Compare(devRank(v.dev), devRank(w.dev)); c != 0 {
		return c
	}
	return compareLocal(v.local, w.local)
}

// preRank orders the pre-release phase: a dev-only release ("1.0.dev1") comes before
// alphas, and a final release after every pre-release.
func (v Version) preRank() int {
	if v.pre == nil {
		if v.dev >= 0 && v.post < 0 {
			return -1
		}
		return 3
	}
	switch v.pre.kind {
	case "a":
		return 0
	case "b":
		return 1
	default:
		return 2
	}
}

func devRank(dev int) int {
	if dev < 0 {
		return int(^uint(0) >> 1)
	}
	return dev
}

// compareLocal orders local labels: none first, then segment by segment, numbers after
// letters and compared as numbers.
func compareLocal(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		an, aerr := strconv.Atoi(as[i])
		bn, berr := strconv.Atoi(bs[i])
		var c int
		switch {
		case aerr == nil && berr == nil:
			c = cmp.Compare(an, bn)
		case aerr == nil:
			c = 1
		case berr == nil:
			c = -1
		default:
			c = strings.Compare(as[i], bs[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(as), len(bs))
}

func at(s []int, i int) int {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// CompareVersions compares two version strings under PEP 440 (see Version.Compare).
func CompareVersions(a, b string) int { return ParseVersion(a).Compare(ParseVersion(b)) }

var nameSeparators = regexp.MustCompile(`[-_.]+`)

// NormalizeName is PEP 503's normal form of a project name: lower case, runs of "-", "_"
// and "." made one "-". "Django" and "django", "python_ldap" and "python-ldap" are one
// project.
func NormalizeName(name string) string {
	return strings.ToLower(nameSeparators.ReplaceAllString(strings.TrimSpace(name), "-"))
}
