package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/upgrade/version"
)

// PlanStep is one hop of a chain.
type PlanStep struct {
	Version string `json:"version"`
	Package string `json:"package"`
}

// Skipped is a file of the folder left out of the plan.
type Skipped struct {
	Package string `json:"package"`
	Reason  string `json:"reason"`
}

// PlanReport is SPEC 5's plan -json.
type PlanReport struct {
	Installed string     `json:"installed"`
	Target    string     `json:"target"`
	Steps     []PlanStep `json:"steps"`
	Reason    Reason     `json:"reason,omitempty"`
	Requires  string     `json:"requires,omitempty"`
	Skipped   []Skipped  `json:"skipped"`
	Log       string     `json:"log,omitempty"`
}

// candidate is a usable package of the folder.
type candidate struct {
	path     string
	v        version.Version
	from     *version.Line
	manifest *pkg.Manifest // nil for a legacy patch
	// needs, when set, is the version of the package whose keys document this one's
	// builds on (a root rotation): the chain must install that one first.
	needs *version.Version
}

// Plan works out the shortest chain of allowed updates from the installed version to the
// newest version in dir, or to target when it is set, with the gating of Check and each
// package's from line. Below 1.1.4.0 the chain climbs through every feature version the
// folder holds, in order. It is read-only. The error is nil when a chain exists (possibly
// empty), and a *outcome.RefusedError naming the missing version when none does.
func (s *Session) Plan(ctx context.Context, dir, target string) (*PlanReport, error) {
	opt, in := s.opt, s.begin()
	var want *version.Version
	if target != "" {
		v, err := version.Parse(target)
		if err != nil {
			return nil, outcome.Unusable(fmt.Errorf("-to: %w", err))
		}
		want = &v
	}
	cands, skipped, err := scanFolder(ctx, &opt, in, dir)
	if err != nil {
		return nil, err
	}
	r := &PlanReport{Installed: in.Version.String(), Steps: []PlanStep{}, Skipped: skipped}
	steps, refusal := chain(in.Version, cands, want)
	switch {
	case want != nil:
		r.Target = want.String()
	case len(cands) > 0:
		r.Target = cands[len(cands)-1].v.String()
	default:
		r.Target = in.Version.String()
	}
	if refusal != nil {
		r.Reason, r.Requires = refusal.Reason, refusal.Requires
		opt.logf("plan %s -> %s: none (%v)", r.Installed, r.Target, refusal)
		return r, refusal
	}
	// Each package against the installation with the earlier ones applied: a link of
	// one must not lead another's link, or its files, out of the root.
	tree := installLinks(in.Root)
	for _, c := range steps {
		if c.manifest == nil {
			continue
		}
		if err := c.manifest.CheckLinks(tree); err != nil {
			return r, outcome.Unusable(fmt.Errorf("package %q after the earlier steps: %w", c.path, err))
		}
		tree = c.manifest.Over(tree)
	}
	for _, c := range steps {
		r.Steps = append(r.Steps, PlanStep{Version: c.v.String(), Package: c.path})
	}
	opt.logf("plan %s -> %s: %d steps", r.Installed, r.Target, len(r.Steps))
	return r, nil
}

// scanFolder opens every package file of dir (signature and payload checked, nothing
// written) and sorts the usable ones by version; the others are listed with the reason.
func scanFolder(ctx context.Context, opt *Options, in *install.Installation, dir string) ([]candidate, []Skipped, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, outcome.Unusable(fmt.Errorf("package folder %q: %w", dir, err))
	}
	kept, err := opt.keptKeys(in)
	if err != nil {
		return nil, nil, err
	}
	var (
		cands   []candidate
		skipped = []Skipped{}
		seen    = map[string]string{}
		opened  []*pkg.Package
		// untrusted are the files whose keys document leads to a root not trusted yet:
		// opened again once a package of the folder brings that root (a root rotation
		// the chain applies first); needs says which package that was.
		untrusted []string
		needs     = map[string]*pkg.Package{}
	)
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		pk, err := opt.openPackage(ctx, kept, p, false)
		var chainErr *trust.ChainError
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case errors.As(err, &chainErr):
			untrusted = append(untrusted, p)
		case err != nil:
			skipped = append(skipped, Skipped{Package: p, Reason: err.Error()})
			opt.logf("plan: %s left out: %v", p, err)
		default:
			opened = append(opened, pk)
		}
	}
	for len(untrusted) > 0 {
		by := newestKeys(opened, kept)
		if by == nil {
			break
		}
		kept = by.Trust.Doc
		var still []string
		for _, p := range untrusted {
			if pk, err := opt.openPackage(ctx, kept, p, false); err == nil {
				opened = append(opened, pk)
				needs[p] = by
			} else {
				still = append(still, p)
			}
		}
		untrusted = still
	}
	for _, p := range untrusted {
		_, err := opt.openPackage(ctx, kept, p, false)
		skipped = append(skipped, Skipped{Package: p, Reason: err.Error()})
		opt.logf("plan: %s left out: %v", p, err)
	}
	for _, pk := range opened {
		p := pk.Path
		c, err := toCandidate(pk)
		if err != nil {
			skipped = append(skipped, Skipped{Package: p, Reason: err.Error()})
			opt.logf("plan: %s left out: %v", p, err)
			continue
		}
		if by := needs[p]; by != nil {
			v, err := version.Parse(by.Version())
			if err != nil {
				return nil, nil, err
			}
			c.needs = &v
		}
		if other, dup := seen[c.v.String()]; dup {
			skipped = append(skipped, Skipped{Package: p, Reason: fmt.Sprintf("version %s again (%s is used)", c.v, other)})
			continue
		}
		seen[c.v.String()] = p
		cands = append(cands, c)
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].v.Less(cands[j].v) })
	return cands, skipped, nil
}

// newestKeys is the opened package that brings the newest keys document beyond kept,
// or nil.
func newestKeys(opened []*pkg.Package, kept *trust.Signed) *pkg.Package {
	var newest *pkg.Package
	for _, pk := range opened {
		if v := pk.Trust; v != nil && v.Keep && v.Refusal == nil && (newest == nil || v.Doc.Doc.Serial > newest.Trust.Doc.Doc.Serial) {
			newest = pk
		}
	}
	if newest == nil || (kept != nil && newest.Trust.Doc.Doc.Serial <= kept.Doc.Serial) {
		return nil
	}
	return newest
}

func toCandidate(p *pkg.Package) (candidate, error) {
	if p.Trust != nil && p.Trust.Refusal != nil {
		return candidate{}, p.Trust.Refusal
	}
	v, err := version.Parse(p.Version())
	if err != nil {
		return candidate{}, err
	}
	c := candidate{path: p.Path, v: v, manifest: p.Manifest}
	if p.Manifest != nil && p.Manifest.From != "" {
		l, err := version.ParseLine(p.Manifest.From)
		if err != nil {
			return candidate{}, err
		}
		c.from = &l
	}
	return c, nil
}

// chain finds the shortest chain from installed to the target (the newest candidate when
// want is nil) by breadth-first search over the versions the candidates reach, in
// version order so that ties go to the lower stops.
func chain(installed version.Version, cands []candidate, want *version.Version) ([]candidate, *outcome.RefusedError) {
	target, ok := pickTarget(installed, cands, want)
	if !ok {
		if want != nil {
			return nil, &outcome.RefusedError{Reason: ReasonTargetMissing, Requires: want.String(),
				Err: fmt.Errorf("the folder holds no valid package of %s", want)}
		}
		return nil, &outcome.RefusedError{Reason: ReasonNoPackages, Err: errors.New("the folder holds no valid update package")}
	}
	switch c := target.v.Compare(installed); {
	case c == 0:
		return nil, nil
	case c < 0:
		return nil, &outcome.RefusedError{Reason: version.ReasonDowngrade,
			Err: fmt.Errorf("%s is older than the installed %s (rollback is the way back)", target.v, installed)}
	}
	prev := map[string]*candidate{}
	from := map[string]version.Version{}
	queue := []version.Version{installed}
	visited := map[string]bool{installed.String(): true}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for i := range cands {
			c := &cands[i]
			if visited[c.v.String()] || target.v.Less(c.v) || !hop(cur, c, cands) || !passes(installed, cur, c.needs, from) {
				continue
			}
			visited[c.v.String()] = true
			prev[c.v.String()], from[c.v.String()] = c, cur
			if c.v.Compare(target.v) == 0 {
				return walkBack(installed, target.v, prev, from), nil
			}
			queue = append(queue, c.v)
		}
	}
	return nil, missing(installed, target, cands, visited)
}

func pickTarget(installed version.Version, cands []candidate, want *version.Version) (candidate, bool) {
	if want == nil {
		if len(cands) == 0 {
			return candidate{}, false
		}
		return cands[len(cands)-1], true
	}
	if want.Compare(installed) == 0 {
		return candidate{v: *want}, true
	}
	for _, c := range cands {
		if c.v.Compare(*want) == 0 {
			return c, true
		}
	}
	return candidate{}, false
}

// hop says whether the update c may be installed on cur: Check's gating, and below
// 1.1.4.0 no feature version of the folder may be skipped on the way up.
// passes says whether the chain that reaches cur installs the version needs (nil: no
// need).
func passes(installed, cur version.Version, needs *version.Version, from map[string]version.Version) bool {
	if needs == nil {
		return true
	}
	for v, ok := cur, true; ok && v.Compare(installed) != 0; v, ok = from[v.String()] {
		if v.Compare(*needs) == 0 {
			return true
		}
	}
	return false
}

func hop(cur version.Version, c *candidate, cands []candidate) bool {
	if !version.Gate(cur, c.v, c.from).Allowed {
		return false
	}
	if !cur.Less(version.Stepping) || c.v.Line() == cur.Line() {
		return true
	}
	for _, o := range cands {
		l := o.v.Line()
		if cur.Line().Compare(l) < 0 && l.Compare(c.v.Line()) < 0 && !version.Stepping.Less(o.v) {
			return false // a feature version in between that the folder holds
		}
	}
	return true
}

func walkBack(installed, target version.Version, prev map[string]*candidate, from map[string]version.Version) []candidate {
	var out []candidate
	for v := target; v.Compare(installed) != 0; v = from[v.String()] {
		out = append(out, *prev[v.String()])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// missing names the version the folder lacks: from the highest version reachable, the
// gating says which version must come first; when the folder holds that one, the question
// repeats for it.
func missing(installed version.Version, target candidate, cands []candidate, reached map[string]bool) *outcome.RefusedError {
	best := installed
	for _, c := range cands {
		if reached[c.v.String()] && best.Less(c.v) && c.v.Less(target.v) {
			best = c.v
		}
	}
	goal := target
	for i := 0; i < len(cands)+1; i++ {
		v := version.Gate(best, goal.v, goal.from)
		if v.Allowed {
			// Only the climb below 1.1.4.0 stopped it: a feature version in between that
			// the folder holds but cannot reach.
			between, ok := lowestBetween(best, goal.v, cands)
			if !ok {
				break
			}
			goal = between
			continue
		}
		if v.Requires == nil {
			return &outcome.RefusedError{Reason: v.Reason,
				Err: fmt.Errorf("no chain from %s to %s: %s", installed, target.v, version.Explain(v.Reason))}
		}
		next, held := findCandidate(cands, *v.Requires)
		if !held {
			return &outcome.RefusedError{Reason: ReasonMissingStep, Requires: v.Requires.String(),
				Err: fmt.Errorf("no chain from %s to %s: the folder lacks %s", installed, target.v, v.Requires)}
		}
		goal = next
	}
	return &outcome.RefusedError{Reason: ReasonMissingStep, Err: fmt.Errorf("no chain from %s to %s", installed, target.v)}
}

// lowestBetween is the lowest candidate on a feature version between cur's and v's.
func lowestBetween(cur, v version.Version, cands []candidate) (candidate, bool) {
	for _, o := range cands {
		if l := o.v.Line(); cur.Line().Compare(l) < 0 && l.Compare(v.Line()) < 0 {
			return o, true
		}
	}
	return candidate{}, false
}

func findCandidate(cands []candidate, v version.Version) (candidate, bool) {
	for _, c := range cands {
		if c.v.Compare(v) == 0 {
			return c, true
		}
	}
	return candidate{}, false
}
