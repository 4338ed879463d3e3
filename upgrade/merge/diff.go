package merge

import "bytes"

// This file holds the line diff the merge is built on. Its output has to be the one
// git's xdiff library gives (Myers' algorithm with xdiff's preparation and its way of
// sliding ambiguous hunks), because the merge is promised to match `git merge-file`
// byte for byte, and a different but equally short diff can turn a clean merge into a
// conflict or move a conflict marker. The steps are:
//
//  1. lines equal at both ends are left out (they cannot be part of a change);
//  2. a line that never occurs in the other file is marked changed at once, and so is a
//     line that occurs very often in the other file when it sits in a run of such lines
//     (both shrink the search and steer it away from matching lone blank lines or
//     brackets far from the real change);
//  3. Myers' linear-space search for a shortest edit script on what is left, splitting
//     at the middle snake;
//  4. every changed run is slid up and down over equal lines, merged with neighbouring
//     runs it touches, and left as low as it goes, unless it can line up with a change
//     in the other file.
//
// git gives up on a shortest script once the edit cost reaches 256 lines (a speed
// heuristic); this code always finds a shortest one, so for files that differ by more
// than that the hunks may be placed differently from git's (the merge is still correct).

// splitLines cuts b after every '\n'. A last line without '\n' is a line too, and an
// empty input has no lines; joining the lines gives b back.
func splitLines(b []byte) [][]byte {
	var lines [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, b)
			break
		}
		lines = append(lines, b[:i+1])
		b = b[i+1:]
	}
	return lines
}

// hunk says that a[A:A+AN] was replaced by b[B:B+BN].
type hunk struct {
	A, AN, B, BN int
}

// side is one file of a diff: the class of each line (equal lines, newline included,
// share a class) and which lines are changed. changed has a false sentinel at each end
// so that the group walks below need no bounds checks.
type side struct {
	class   []int
	changed []bool // changed[i+1] is line i
}

func (s *side) n() int               { return len(s.class) }
func (s *side) isChanged(i int) bool { return s.changed[i+1] }
func (s *side) mark(i int, v bool)   { s.changed[i+1] = v }

// diffLines returns the hunks that turn a into b, in order.
func diffLines(a, b [][]byte) []hunk {
	classes := make(map[string]int)
	classify := func(lines [][]byte) *side {
		s := &side{class: make([]int, len(lines)), changed: make([]bool, len(lines)+2)}
		for i, l := range lines {
			c, ok := classes[string(l)]
			if !ok {
				c = len(classes)
				classes[string(l)] = c
			}
			s.class[i] = c
		}
		return s
	}
	sa, sb := classify(a), classify(b)
	countA, countB := make([]int, len(classes)), make([]int, len(classes))
	for _, c := range sa.class {
		countA[c]++
	}
	for _, c := range sb.class {
		countB[c]++
	}

	// 1. Common ends.
	lo := 0
	for lo < sa.n() && lo < sb.n() && sa.class[lo] == sb.class[lo] {
		lo++
	}
	endA, endB := sa.n(), sb.n()
	for endA > lo && endB > lo && sa.class[endA-1] == sb.class[endB-1] {
		endA--
		endB--
	}

	// 2. Lines the search may skip.
	keptA, indexA := prune(sa, countB, lo, endA)
	keptB, indexB := prune(sb, countA, lo, endB)

	// 3. Shortest edit script.
	m := &myers{a: keptA, b: keptB, indexA: indexA, indexB: indexB, sa: sa, sb: sb}
	size := len(keptA) + len(keptB) + 3
	m.fwd, m.bwd, m.mid = make([]int, size), make([]int, size), len(keptB)+1
	m.compare(0, len(keptA), 0, len(keptB))

	// 4. Canonical placement.
	compact(sa, sb)
	compact(sb, sa)

	var hs []hunk
	for i, j := 0, 0; i < sa.n() || j < sb.n(); {
		if !sa.isChanged(i) && !sb.isChanged(j) {
			i++
			j++
			continue
		}
		h := hunk{A: i, B: j}
		for sa.isChanged(i) {
			i++
		}
		for sb.isChanged(j) {
			j++
		}
		h.AN, h.BN = i-h.A, j-h.B
		hs = append(hs, h)
	}
	return hs
}

// prune decides which of s's lines in [lo, end) take part in the search and marks the
// others changed. other counts each class's lines in the other file. It returns the
// classes of the kept lines and their line numbers.
func prune(s *side, other []int, lo, end int) (kept, index []int) {
	const (
		noMatch   = 0
		match     = 1
		manyMatch = 2
	)
	limit := bogoSqrt(s.n())
	if limit > 1024 {
		limit = 1024
	}
	kind := make([]byte, s.n())
	for i := lo; i < end; i++ {
		switch nm := other[s.class[i]]; {
		case nm == 0:
			kind[i] = noMatch
		case nm >= limit:
			kind[i] = manyMatch
		default:
			kind[i] = match
		}
	}
	for i := lo; i < end; i++ {
		if kind[i] == match || (kind[i] == manyMatch && !amidUnmatched(kind, i, lo, end-1)) {
			kept = append(kept, s.class[i])
			index = append(index, i)
		} else {
			s.mark(i, true)
		}
	}
	return kept, index
}

// amidUnmatched reports whether the often-matching line i sits in a run of lines that
// have no match or many, with unmatched ones on both sides and few often-matching ones
// among them: such a line would only anchor the search on a coincidence. first and last
// bound the run (inclusive); the scan looks at most 100 lines each way.
func amidUnmatched(kind []byte, i, first, last int) bool {
	const window = 100
	first = max(first, i-window)
	last = min(last, i+window)
	scan := func(step, bound int) (none, many int) {
		many = 1 // line i itself
		for j := i + step; (step < 0 && j >= bound) || (step > 0 && j <= bound); j += step {
			switch kind[j] {
			case 0:
				none++
			case 2:
				many++
			default:
				return none, many
			}
		}
		return none, many
	}
	noneBefore, manyBefore := scan(-1, first)
	if noneBefore == 0 {
		return false
	}
	noneAfter, manyAfter := scan(1, last)
	if noneAfter == 0 {
		return false
	}
	none, many := noneBefore+noneAfter, manyBefore+manyAfter
	return many*4 < many+none
}

// bogoSqrt is a rough square root (a power of two), the threshold above which a line is
// considered to occur "very often".
func bogoSqrt(n int) int {
	i := 1
	for ; n > 0; n >>= 2 {
		i <<= 1
	}
	return i
}

// myers finds a shortest edit script between a and b (classes of the kept lines) and
// marks the lines outside it changed in sa and sb through indexA and indexB.
type myers struct {
	a, b           []int
	indexA, indexB []int
	sa, sb         *side
	fwd, bwd       []int // furthest reaching x per diagonal k = x - y, stored at mid+k
	mid            int
}

func (m *myers) compare(off1, lim1, off2, lim2 int) {
	for off1 < lim1 && off2 < lim2 && m.a[off1] == m.b[off2] {
		off1++
		off2++
	}
	for off1 < lim1 && off2 < lim2 && m.a[lim1-1] == m.b[lim2-1] {
		lim1--
		lim2--
	}
	switch {
	case off1 == lim1:
		for ; off2 < lim2; off2++ {
			m.sb.mark(m.indexB[off2], true)
		}
	case off2 == lim2:
		for ; off1 < lim1; off1++ {
			m.sa.mark(m.indexA[off1], true)
		}
	default:
		x, y := m.split(off1, lim1, off2, lim2)
		m.compare(off1, x, off2, y)
		m.compare(x, lim1, y, lim2)
	}
}

// split runs the forward and the backward search at once until they meet, and returns
// the point where they do. The order of the diagonals and the tie-breaks are those of
// xdiff, so that among several shortest scripts the same one is found.
func (m *myers) split(off1, lim1, off2, lim2 int) (x, y int) {
	const far = int(^uint(0) >> 1)
	a, b, f, r, o := m.a, m.b, m.fwd, m.bwd, m.mid
	dmin, dmax := off1-lim2, lim1-off2
	fmid, bmid := off1-off2, lim1-lim2
	odd := (fmid-bmid)&1 != 0
	fmin, fmax, bmin, bmax := fmid, fmid, bmid, bmid
	f[o+fmid] = off1
	r[o+bmid] = lim1
	for {
		// Widen the forward band by one diagonal each side, or narrow it where it
		// would leave the box; the value just outside is primed so that it never wins.
		if fmin > dmin {
			fmin--
			f[o+fmin-1] = -1
		} else {
			fmin++
		}
		if fmax < dmax {
			fmax++
			f[o+fmax+1] = -1
		} else {
			fmax--
		}
		for d := fmax; d >= fmin; d -= 2 {
			if f[o+d-1] >= f[o+d+1] {
				x = f[o+d-1] + 1
			} else {
				x = f[o+d+1]
			}
			y = x - d
			for x < lim1 && y < lim2 && a[x] == b[y] {
				x++
				y++
			}
			f[o+d] = x
			if odd && bmin <= d && d <= bmax && r[o+d] <= x {
				return x, y
			}
		}

		if bmin > dmin {
			bmin--
			r[o+bmin-1] = far
		} else {
			bmin++
		}
		if bmax < dmax {
			bmax++
			r[o+bmax+1] = far
		} else {
			bmax--
		}
		for d := bmax; d >= bmin; d -= 2 {
			if r[o+d-1] < r[o+d+1] {
				x = r[o+d-1]
			} else {
				x = r[o+d+1] - 1
			}
			y = x - d
			for x > off1 && y > off2 && a[x-1] == b[y-1] {
				x--
				y--
			}
			r[o+d] = x
			if !odd && fmin <= d && d <= fmax && x <= f[o+d] {
				return x, y
			}
		}
	}
}

// group is a run of changed lines [start, end) of one side; between two groups there is
// exactly one unchanged line, so the groups of both sides of a diff pair up one to one
// (many of them empty).
type group struct{ start, end int }

func (s *side) first() group {
	g := group{}
	for s.isChanged(g.end) {
		g.end++
	}
	return g
}

func (s *side) next(g *group) bool {
	if g.end == s.n() {
		return false
	}
	g.start = g.end + 1
	g.end = g.start
	for s.isChanged(g.end) {
		g.end++
	}
	return true
}

func (s *side) prev(g *group) bool {
	if g.start == 0 {
		return false
	}
	g.end = g.start - 1
	g.start = g.end
	for s.isChanged(g.start - 1) {
		g.start--
	}
	return true
}

// slideDown moves a non-empty group one line down when the line after it equals its
// first line, absorbing a group it then touches.
func (s *side) slideDown(g *group) bool {
	if g.end >= s.n() || s.class[g.start] != s.class[g.end] {
		return false
	}
	s.mark(g.start, false)
	s.mark(g.end, true)
	g.start++
	g.end++
	for s.isChanged(g.end) {
		g.end++
	}
	return true
}

func (s *side) slideUp(g *group) bool {
	if g.start == 0 || s.class[g.start-1] != s.class[g.end-1] {
		return false
	}
	g.start--
	g.end--
	s.mark(g.start, true)
	s.mark(g.end, false)
	for s.isChanged(g.start - 1) {
		g.start--
	}
	return true
}

// compact gives every changed run of s its canonical place: as low as it can slide,
// unless sliding lets it line up with a change of o, the other side, in which case the
// lowest such place.
func compact(s, o *side) {
	g, og := s.first(), o.first()
	for {
		if g.end != g.start {
			var earliestEnd, alignedEnd int
			for {
				size := g.end - g.start
				alignedEnd = -1
				for s.slideUp(&g) {
					o.prev(&og)
				}
				earliestEnd = g.end
				if og.end > og.start {
					alignedEnd = g.end
				}
				for s.slideDown(&g) {
					o.next(&og)
					if og.end > og.start {
						alignedEnd = g.end
					}
				}
				if size == g.end-g.start {
					break
				}
			}
			if g.end != earliestEnd && alignedEnd != -1 {
				for og.end == og.start {
					s.slideUp(&g)
					o.prev(&og)
				}
			}
		}
		if !s.next(&g) {
			return
		}
		o.next(&og)
	}
}
