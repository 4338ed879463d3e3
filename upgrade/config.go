package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/merge"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/txn"
)

// configChange is what an update does with one config file (SPEC 4.8).
type configChange struct {
	path      string
	installed []byte // nil when absent
	hasBase   bool   // a previous release's copy was known
	d         merge.Decision
}

// readOptional reads a file; nil (not an error) when it does not exist.
func readOptional(p string) ([]byte, error) {
	if err := notPlantedLink(p); err != nil {
		return nil, outcome.Unusable(err)
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// recordedBases are the config files of the last update applied and not undone, as that
// release shipped them: the merge base of the next update (SPEC 4.8).
func recordedBases(in *install.Installation) map[string][]byte {
	backups, err := txn.Backups(in.StateDir())
	if err != nil {
		return nil
	}
	for _, b := range backups {
		if b.Undone {
			continue
		}
		dir := filepath.Join(b.Dir, recordDir, "config")
		out := map[string][]byte{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				rel, _ := filepath.Rel(dir, p)
				if c, err := os.ReadFile(p); err == nil {
					out[filepath.ToSlash(rel)] = c
				}
			}
			return nil
		})
		return out
	}
	return nil
}

// recordDir is where a run keeps its record beside its backup: the manifest and the
// package's copy of each config file.
const recordDir = "record"

// writeRecord keeps the record of an update in its backup folder: the manifest as it
// was signed (manifest, its bytes) and the package's config files.
func writeRecord(dir string, manifest []byte, incoming map[string][]byte) error {
	if err := os.MkdirAll(filepath.Join(dir, recordDir), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, recordDir, pkg.ManifestName), manifest, 0o644); err != nil {
		return err
	}
	for rel, c := range incoming {
		p := filepath.Join(dir, recordDir, "config", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, c, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// decideConfigs decides every config file the package ships or deletes. incoming gives
// the package's copy of a shipped one; pkgBase the base copies pack -base stored.
func decideConfigs(in *install.Installation, m *pkg.Manifest, incoming map[string][]byte, pkgBase map[string][]byte, choice string) ([]configChange, error) {
	bases := recordedBases(in)
	var out []configChange
	decide := func(rel string, inc []byte) error {
		installed, err := readOptional(abs(in, rel))
		if err != nil {
			return fmt.Errorf("read config file %q: %w", abs(in, rel), err)
		}
		base, ok := bases[rel]
		if !ok {
			base = pkgBase[rel]
		}
		d := merge.Decide(merge.Input{Base: base, Installed: installed, Incoming: inc, Choice: merge.Choice(choice),
			Labels: merge.Options{OursLabel: "installed", TheirsLabel: "package"}})
		out = append(out, configChange{path: rel, installed: installed, hasBase: base != nil, d: d})
		return nil
	}
	for _, f := range m.Files {
		if f.Kind != pkg.KindConfig || f.Link != "" {
			continue
		}
		if err := decide(f.Path, incoming[f.Path]); err != nil {
			return nil, err
		}
	}
	for _, d := range m.Delete {
		if pkg.DefaultKind(d) == pkg.KindConfig {
			if err := decide(d, nil); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// conflictError refuses the update when a config file could not be settled.
func conflictError(changes []configChange) error {
	var names []string
	for _, c := range changes {
		if c.d.Refused() {
			names = append(names, c.path)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return &outcome.RefusedError{Reason: ReasonConfigConflict,
		Err: fmt.Errorf("config files changed both by the administrator and by the update, in ways that do not merge: %s; run again with -config keep (yours stay, the package's go beside them as %s) or -config new (the package's go in, yours are saved as %s)",
			strings.Join(names, ", "), merge.NewSuffix, merge.OldSuffix)}
}

// configResults are the config list of check and apply.
func configResults(changes []configChange) []ConfigResult {
	var out []ConfigResult
	for _, c := range changes {
		out = append(out, ConfigResult{Path: c.path, Result: string(c.d.Result)})
	}
	return out
}

// stageConfigs turns the decisions into file operations: what is to be written goes
// into the staging folder under the path (and beside it, .omflow-new / .omflow-old).
func stageConfigs(in *install.Installation, staging string, changes []configChange) ([]txn.Op, error) {
	var ops []txn.Op
	// put stages content for rel. A copy saved beside a config file (like) is kept as
	// that file: owner, group, mode and label (txn.Op.Like).
	put := func(rel, like string, content []byte) error {
		p := filepath.Join(staging, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if st, err := os.Stat(abs(in, like)); err == nil {
			mode = st.Mode().Perm()
		}
		if err := os.WriteFile(p, content, mode); err != nil {
			return err
		}
		op := fileOp(in, rel)
		if like != rel {
			op.Like = like
		}
		ops = append(ops, op)
		return nil
	}
	for _, c := range changes {
		staged := filepath.Join(staging, filepath.FromSlash(c.path))
		switch {
		case c.d.Content == nil:
			os.Remove(staged)
			if c.installed != nil {
				ops = append(ops, txn.Op{Kind: txn.Delete, Path: c.path})
			}
		case c.installed != nil && bytes.Equal(c.d.Content, c.installed):
			os.Remove(staged)
		default:
			if err := put(c.path, c.path, c.d.Content); err != nil {
				return nil, err
			}
		}
		if c.d.Beside != nil {
			if err := put(c.path+merge.NewSuffix, c.path, c.d.Beside); err != nil {
				return nil, err
			}
		}
		if c.d.SaveOld && c.installed != nil {
			if err := put(c.path+merge.OldSuffix, c.path, c.installed); err != nil {
				return nil, err
			}
		}
	}
	return ops, nil
}

// fileOp is an add or a replace, by whether the path exists.
func fileOp(in *install.Installation, rel string) txn.Op {
	if exists(in, rel) {
		return txn.Op{Kind: txn.Replace, Path: rel}
	}
	return txn.Op{Kind: txn.Add, Path: rel}
}

// configActions are the dry run's lines for config files.
func configActions(changes []configChange) []FileAction {
	var out []FileAction
	for _, c := range changes {
		out = append(out, FileAction{Path: c.path, Action: string(c.d.Action), Size: int64(len(c.d.Content))})
		if c.d.Beside != nil {
			out = append(out, FileAction{Path: c.path + merge.NewSuffix, Action: "add", Size: int64(len(c.d.Beside))})
		}
		if c.d.SaveOld && c.installed != nil {
			out = append(out, FileAction{Path: c.path + merge.OldSuffix, Action: "add", Size: int64(len(c.installed))})
		}
	}
	return out
}

// ConfigDiff is, for a config file that the administrator and the update both changed
// in ways that do not merge, each conflicting part with its three texts: for a
// three-way view (the wizard's).
type ConfigDiff struct {
	Path string
	// Base says a copy of the previous release was known: the view is three-way. Without
	// one, the hunks are the lines where the two copies differ.
	Base bool
	// Deleted says the update deletes the file the administrator changed.
	Deleted bool
	Hunks   []merge.Conflict
}

// ConfigDiffs reads, for every config file of a check, the installed copy, the package's
// and the base the update merges against, and returns the files that conflict whatever
// the administrator chose (a choice settles a conflict; it does not make the edits go
// away). It is read-only.
func ConfigDiffs(ctx context.Context, r *CheckReport) (map[string]*ConfigDiff, error) {
	if r == nil || r.Package == nil || r.Package.Manifest == nil || r.Installation == nil || len(r.Config) == 0 {
		return nil, nil
	}
	copies, err := r.Package.ReadConfigs(ctx)
	if err != nil {
		return nil, err
	}
	changes, err := decideConfigs(r.Installation, r.Package.Manifest, copies.New, copies.Base, "")
	if err != nil {
		return nil, err
	}
	labels := merge.Options{OursLabel: "installed", TheirsLabel: "package"}
	out := map[string]*ConfigDiff{}
	for _, c := range changes {
		if !c.d.Refused() {
			continue
		}
		incoming := copies.New[c.path]
		d := &ConfigDiff{Path: c.path, Base: c.hasBase, Deleted: incoming == nil}
		switch {
		case c.d.Conflict != nil:
			d.Hunks = c.d.Conflict.Conflicts
		case incoming != nil:
			// No base: merged against an empty one, git's refinement leaves exactly the
			// lines where the two copies differ.
			d.Base = false
			d.Hunks = merge.Merge([]byte{}, c.installed, incoming, labels).Conflicts
		}
		out[c.path] = d
	}
	return out, nil
}
