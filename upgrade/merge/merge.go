package merge

import (
	"bytes"
	"slices"
)

// Options label the conflict markers.
type Options struct {
	// OursLabel follows "<<<<<<< " and TheirsLabel follows ">>>>>>> ", as the first and
	// third -L of git merge-file. An empty label leaves the marker bare ("<<<<<<<").
	OursLabel   string
	TheirsLabel string
}

// Span is a range of lines, Start counted from 0, End excluded.
type Span struct {
	Start, End int
}

// Len is the number of lines in the span.
func (s Span) Len() int { return s.End - s.Start }

// Conflict is one conflicting hunk: what each side has there, for a three-way view.
type Conflict struct {
	// Ours and Theirs are the conflicting lines of each side, as they appear between the
	// markers of Result.Merged.
	Ours, Theirs Span
	// Base is the base region the two sides changed in overlapping ways. When git's
	// refinement splits such a region into several conflicts (the lines both sides
	// agree on are no longer in conflict), each of them reports the whole region.
	Base Span
	// Marker is the line of Result.Merged that holds the "<<<<<<<" marker.
	Marker int

	BaseText, OursText, TheirsText []byte
}

// Result is the outcome of Merge.
type Result struct {
	// Merged is the merged file; when there are conflicts it holds git's conflict
	// markers around each of them. Never nil.
	Merged []byte
	// Conflicts lists the conflicting hunks in file order; empty for a clean merge.
	Conflicts []Conflict
}

// Clean reports whether the merge had no conflict.
func (r Result) Clean() bool { return len(r.Conflicts) == 0 }

// Merge merges the changes from base to theirs into ours, line by line, and gives what
// `git merge-file -p -L OURS -L BASE -L THEIRS ours base theirs` prints (git's default
// "merge" conflict style, 7-character markers, no whitespace options): the same bytes,
// and as many conflicts as git's exit status counts. Line endings are bytes of the
// lines: CRLF lines stay CRLF, a missing final newline stays missing unless a conflict
// marker has to follow the line (then git adds "\n", or "\r\n" when the lines around it
// end so). Unlike git, Merge does not refuse files that look binary.
func Merge(base, ours, theirs []byte, opt Options) Result {
	b, o, t := splitLines(base), splitLines(ours), splitLines(theirs)
	toOurs, toTheirs := diffLines(b, o), diffLines(b, t)
	// git returns one side untouched when the other made no change at all.
	if len(toOurs) == 0 {
		return Result{Merged: append([]byte{}, theirs...)}
	}
	if len(toTheirs) == 0 {
		return Result{Merged: append([]byte{}, ours...)}
	}
	rs := combine(toOurs, toTheirs, len(b), len(o), len(t), o, t)
	rs = refine(rs, o, t)
	rs = simplify(rs, o)
	return render(rs, b, o, t, opt)
}

// How a region of the merge is resolved.
const (
	conflicted = iota // both sides changed it differently
	takeOurs          // only ours changed it
	takeTheirs        // only theirs changed it
	agreed            // a conflict whose two sides turned out equal; taken from ours
)

// region is a stretch of the merge: base[b0:b0+bn] became ours[o0:o0+on] and
// theirs[t0:t0+tn].
type region struct {
	mode           int
	b0, bn         int
	o0, on, t0, tn int
}

// add appends r, or widens the last region over r when the two touch on either side; a
// region that mixes different resolutions is a conflict.
func add(rs []region, r region) []region {
	if n := len(rs); n > 0 {
		last := &rs[n-1]
		if r.o0 <= last.o0+last.on || r.t0 <= last.t0+last.tn {
			if r.mode != last.mode {
				last.mode = conflicted
			}
			last.bn = r.b0 + r.bn - last.b0
			last.on = r.o0 + r.on - last.o0
			last.tn = r.t0 + r.tn - last.t0
			return rs
		}
	}
	return append(rs, r)
}

// combine walks the hunks of both sides in base order. A hunk that ends before the other
// side's next one starts (touching is not enough) is taken as it is; overlapping or
// touching hunks form a conflict unless they make the very same change.
func combine(toOurs, toTheirs []hunk, nb, no, nt int, o, t [][]byte) []region {
	var rs []region
	i, j := 0, 0
	for i < len(toOurs) && j < len(toTheirs) {
		x, y := toOurs[i], toTheirs[j]
		if x.A+x.AN < y.A {
			rs = add(rs, region{mode: takeOurs, b0: x.A, bn: x.AN, o0: x.B, on: x.BN, t0: y.B - y.A + x.A, tn: x.AN})
			i++
			continue
		}
		if y.A+y.AN < x.A {
			rs = add(rs, region{mode: takeTheirs, b0: y.A, bn: y.AN, o0: x.B - x.A + y.A, on: y.AN, t0: y.B, tn: y.BN})
			j++
			continue
		}
		same := x.A == y.A && x.AN == y.AN && x.BN == y.BN &&
			slices.EqualFunc(o[x.B:x.B+x.BN], t[y.B:y.B+y.BN], bytes.Equal)
		if !same {
			// Stretch both sides over the union of the two base ranges; the extra
			// base lines are unchanged on the side that did not touch them.
			r := region{mode: conflicted, b0: x.A, o0: x.B, t0: y.B}
			if off := x.A - y.A; off > 0 {
				r.b0 -= off
				r.o0 -= off
			} else {
				r.t0 += off
			}
			r.bn = x.A + x.AN - r.b0
			r.on = x.B + x.BN - r.o0
			r.tn = y.B + y.BN - r.t0
			if ffo := x.A + x.AN - (y.A + y.AN); ffo < 0 {
				r.bn -= ffo
				r.on -= ffo
			} else {
				r.tn += ffo
			}
			rs = add(rs, r)
		}
		endOurs, endTheirs := x.A+x.AN, y.A+y.AN
		if endOurs >= endTheirs {
			j++
		}
		if endTheirs >= endOurs {
			i++
		}
	}
	for ; i < len(toOurs); i++ {
		x := toOurs[i]
		rs = add(rs, region{mode: takeOurs, b0: x.A, bn: x.AN, o0: x.B, on: x.BN, t0: x.A + nt - nb, tn: x.AN})
	}
	for ; j < len(toTheirs); j++ {
		y := toTheirs[j]
		rs = add(rs, region{mode: takeTheirs, b0: y.A, bn: y.AN, o0: y.A + no - nb, on: y.AN, t0: y.B, tn: y.BN})
	}
	return rs
}

// refine diffs the two sides of each conflict against each other and keeps only the
// lines where they differ in conflict (git's "zealous" level).
func refine(rs []region, o, t [][]byte) []region {
	for k := 0; k < len(rs); k++ {
		r := rs[k]
		if r.mode != conflicted || r.on == 0 || r.tn == 0 {
			continue
		}
		hs := diffLines(o[r.o0:r.o0+r.on], t[r.t0:r.t0+r.tn])
		if len(hs) == 0 {
			rs[k].mode = agreed
			continue
		}
		pieces := make([]region, len(hs))
		for p, h := range hs {
			pieces[p] = region{mode: conflicted, b0: r.b0, bn: r.bn,
				o0: r.o0 + h.A, on: h.AN, t0: r.t0 + h.B, tn: h.BN}
		}
		rs = slices.Replace(rs, k, k+1, pieces...)
		k += len(pieces) - 1
	}
	return rs
}

// simplify joins two conflicts when at most three lines lie between them, or when the
// lines between have no letter or digit (git's "zealous alnum" level): a conflict that
// swallows a few lines reads more easily than two.
func simplify(rs []region, o [][]byte) []region {
	for k := 0; k+1 < len(rs); {
		r, next := rs[k], rs[k+1]
		begin, end := r.o0+r.on, next.o0
		if r.mode != conflicted || next.mode != conflicted ||
			(end-begin > 3 && hasAlnum(o[begin:end])) {
			k++
			continue
		}
		joined := &rs[k]
		joined.on = next.o0 + next.on - r.o0
		joined.tn = next.t0 + next.tn - r.t0
		b0 := min(r.b0, next.b0)
		joined.bn = max(r.b0+r.bn, next.b0+next.bn) - b0
		joined.b0 = b0
		rs = slices.Delete(rs, k+1, k+2)
	}
	return rs
}

// hasAlnum reports whether any line holds an ASCII letter or digit.
func hasAlnum(lines [][]byte) bool {
	for _, l := range lines {
		for _, c := range l {
			if '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
				return true
			}
		}
	}
	return false
}

// render writes the merge: ours where nobody or only ours changed, theirs where only
// theirs changed, markers around conflicts.
func render(rs []region, b, o, t [][]byte, opt Options) Result {
	var out []byte
	res := Result{}
	lines := 0 // lines written to out
	copyLines := func(ls [][]byte) {
		for _, l := range ls {
			out = append(out, l...)
		}
		lines += len(ls)
	}
	// A conflict marker must start a line, so a side's last line gets the newline it
	// may lack (in the style of the surrounding lines).
	copyTerminated := func(ls [][]byte, crlf bool) {
		copyLines(ls)
		if n := len(ls); n > 0 && !bytes.HasSuffix(ls[n-1], []byte("\n")) {
			if crlf {
				out = append(out, '\r')
			}
			out = append(out, '\n')
		}
	}
	marker := func(c byte, label string, crlf bool) {
		for range 7 {
			out = append(out, c)
		}
		if label != "" {
			out = append(out, ' ')
			out = append(out, label...)
		}
		if crlf {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		lines++
	}

	i := 0 // next line of ours to copy
	for _, r := range rs {
		switch r.mode {
		case conflicted:
			copyLines(o[i:r.o0])
			crlf := needsCR(b, o, t, r)
			c := Conflict{
				Ours:       Span{r.o0, r.o0 + r.on},
				Theirs:     Span{r.t0, r.t0 + r.tn},
				Base:       Span{r.b0, r.b0 + r.bn},
				Marker:     lines,
				OursText:   bytes.Join(o[r.o0:r.o0+r.on], nil),
				TheirsText: bytes.Join(t[r.t0:r.t0+r.tn], nil),
				BaseText:   bytes.Join(b[r.b0:r.b0+r.bn], nil),
			}
			res.Conflicts = append(res.Conflicts, c)
			marker('<', opt.OursLabel, crlf)
			copyTerminated(o[r.o0:r.o0+r.on], crlf)
			marker('=', "", crlf)
			copyTerminated(t[r.t0:r.t0+r.tn], crlf)
			marker('>', opt.TheirsLabel, crlf)
		case takeOurs:
			copyLines(o[i : r.o0+r.on])
		case takeTheirs:
			copyLines(o[i:r.o0])
			copyLines(t[r.t0 : r.t0+r.tn])
		default:
			continue
		}
		i = r.o0 + r.on
	}
	copyLines(o[i:])
	if out == nil {
		out = []byte{}
	}
	res.Merged = out
	return res
}

// needsCR decides whether the markers (and newlines added for them) of conflict r end in
// CRLF: when the line before the conflict in ours, the one before it in theirs, and the
// first line of base all end in CRLF, skipping any whose ending cannot be told.
func needsCR(b, o, t [][]byte, r region) bool {
	before := func(i int) int { return max(i-1, 0) }
	crlf := eolCRLF(o, before(r.o0))
	if crlf != 0 {
		crlf = eolCRLF(t, before(r.t0))
	}
	if crlf != 0 {
		crlf = eolCRLF(b, 0)
	}
	return crlf > 0
}

// eolCRLF says how line i ends: 1 CRLF, 0 LF, -1 cannot tell (no lines, or a single line
// without a newline). A last line without a newline goes by the line before it.
func eolCRLF(lines [][]byte, i int) int {
	crlf := func(l []byte) int {
		if bytes.HasSuffix(l, []byte("\r\n")) {
			return 1
		}
		return 0
	}
	switch n := len(lines); {
	case n == 0:
		return -1
	case i < n-1 || bytes.HasSuffix(lines[i], []byte("\n")):
		return crlf(lines[i])
	case i == 0:
		return -1
	default:
		return crlf(lines[i-1])
	}
}
