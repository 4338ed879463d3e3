package app

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/merge"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/txn"
)

// configDiff is what the administrator and the update each did to a config file that
// conflicts, for the difference view. The core decides the file (CheckReport.Config) but
// does not hand out the texts, so the wizard reads the same three copies and merges them
// itself.
type configDiff struct {
	Path string
	// Base says a copy of the previous release was known: the view is three-way. Without
	// one, the hunks are the lines where the two copies differ.
	Base bool
	// Deleted says the update deletes the file the administrator changed.
	Deleted bool
	Hunks   []merge.Conflict
}

// configDiffs reads, for every config file of r, the installed copy, the package's and
// the base the core merges against, and returns the files that conflict whatever the
// administrator chose (a choice settles a conflict; it does not make the edits go away).
func configDiffs(ctx context.Context, r *upgrade.CheckReport) (map[string]*configDiff, error) {
	if r == nil || r.Package == nil || r.Installation == nil || len(r.Config) == 0 {
		return nil, nil
	}
	copies, err := r.Package.ReadConfigs(ctx)
	if err != nil {
		return nil, err
	}
	bases := recordedBases(r.Installation)
	out := map[string]*configDiff{}
	for _, c := range r.Config {
		if isData(r, c.Path) {
			continue // never replaced: nothing to compare
		}
		installed, err := readOptional(filepath.Join(r.Installation.Root, filepath.FromSlash(c.Path)))
		if err != nil {
			return nil, err
		}
		base, ok := bases[c.Path]
		if !ok {
			base = copies.Base[c.Path]
		}
		incoming := copies.New[c.Path]
		labels := merge.Options{OursLabel: "installed", TheirsLabel: "package"}
		d := merge.Decide(merge.Input{Base: base, Installed: installed, Incoming: incoming, Labels: labels})
		if !d.Refused() {
			continue
		}
		cd := &configDiff{Path: c.Path, Base: base != nil, Deleted: incoming == nil}
		switch {
		case d.Conflict != nil:
			cd.Hunks = d.Conflict.Conflicts
		case incoming != nil:
			// No base: merged against an empty one, git's refinement leaves exactly the
			// lines where the two copies differ.
			cd.Base = false
			cd.Hunks = merge.Merge([]byte{}, installed, incoming, labels).Conflicts
		}
		out[c.Path] = cd
	}
	return out, nil
}

// isData says the package ships rel as a data file.
func isData(r *upgrade.CheckReport, rel string) bool {
	if m := r.Package.Manifest; m != nil {
		f, ok := m.File(rel)
		return ok && f.Kind == pkg.KindData
	}
	return false
}

// recordedBases are the config files of the last update applied and not undone, as its
// release shipped them: the core's merge base before the package's own (upgrade/config.go
// keeps them in the backup's record/config folder; it exports no reader of them).
func recordedBases(in *install.Installation) map[string][]byte {
	backups, err := txn.Backups(in.StateDir())
	if err != nil {
		return nil
	}
	for _, b := range backups {
		if b.Undone {
			continue
		}
		dir := filepath.Join(b.Dir, "record", "config")
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

// readOptional reads a file; nil (not an error) when it does not exist.
func readOptional(p string) ([]byte, error) {
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

// configResultKeys are the words of the core's config results (SPEC 5's config list):
// what the update does (check screen) and what it did (restart screen).
var configResultKeys = map[string]string{
	string(merge.OutcomeReplaced):  "replaced",
	string(merge.OutcomeKept):      "kept",
	string(merge.OutcomeMerged):    "merged",
	string(merge.OutcomeConflict):  "conflict",
	string(merge.OutcomeNewBeside): "newBeside",
	string(merge.OutcomeOldSaved):  "oldSaved",
}

// configLine says in words what the update does (prefix "check.config.") or did
// ("restart.config.") to one config or data file.
func (a *App) configLine(prefix string, c upgrade.ConfigResult) string {
	key, ok := configResultKeys[c.Result]
	if !ok {
		return c.Path + ": " + c.Result
	}
	beside := ""
	switch c.Result {
	case string(merge.OutcomeNewBeside):
		beside = c.Path + merge.NewSuffix
	case string(merge.OutcomeOldSaved):
		beside = c.Path + merge.OldSuffix
	}
	return a.t(prefix+key, map[string]any{"Path": c.Path, "Beside": beside})
}

// configRow is one config or data file on the check screen.
type configRow struct {
	label *widget.Label
	diff  *widget.Button // nil unless the file conflicts
}

// relabelConfig lists each config and data file of the check and what the update does
// with it; a file both sides changed gets a button to its differences.
func (s *checkScreen) relabelConfig() {
	a := s.a
	s.configBox.RemoveAll()
	s.configRows = map[string]*configRow{}
	r := a.report
	if r == nil || s.running || len(r.Config) == 0 {
		s.configBox.Hide()
		return
	}
	s.configBox.Add(bold(a.t("check.config.heading", nil)))
	for _, c := range r.Config {
		row := &configRow{label: wrapped(a.configLine("check.config.", c))}
		switch c.Result {
		case string(merge.OutcomeConflict):
			row.label.Importance = widget.DangerImportance
		case string(merge.OutcomeNewBeside), string(merge.OutcomeOldSaved):
			row.label.Importance = widget.WarningImportance
		}
		var obj fyne.CanvasObject = row.label
		if _, ok := a.configDiffs[c.Path]; ok {
			path := c.Path
			row.diff = widget.NewButton(a.t("check.config.differences", nil), func() { s.showDiff(path) })
			obj = container.NewBorder(nil, nil, nil, container.NewVBox(row.diff), row.label)
		}
		s.configRows[c.Path] = row
		s.configBox.Add(obj)
	}
	s.configBox.Show()
}

// showDiff shows what the administrator and the update each changed in a conflicting
// file, side by side, with the two ways out.
func (s *checkScreen) showDiff(rel string) {
	a := s.a
	cd := a.configDiffs[rel]
	if cd == nil {
		return
	}
	name := path.Base(rel)
	box := container.NewVBox()
	switch {
	case cd.Deleted:
		box.Add(wrapped(a.t("check.diff.deleted", map[string]any{"Path": rel})))
	case cd.Base:
		box.Add(wrapped(a.t("check.diff.threeWay", map[string]any{"Path": rel})))
	default:
		box.Add(wrapped(a.t("check.diff.noBase", map[string]any{"Path": rel})))
	}
	version := ""
	if a.report != nil {
		version = a.report.Update
	}
	heads := []string{a.t("check.diff.mine", nil)}
	if cd.Base {
		heads = append(heads, a.t("check.diff.base", nil))
	}
	heads = append(heads, a.t("check.diff.theirs", map[string]any{"Version": version}))
	for i, h := range cd.Hunks {
		box.Add(widget.NewSeparator())
		box.Add(bold(a.t("check.diff.hunk", map[string]any{"Number": i + 1, "Line": h.Ours.Start + 1})))
		texts := []string{string(h.OursText)}
		if cd.Base {
			texts = append(texts, string(h.BaseText))
		}
		texts = append(texts, string(h.TheirsText))
		grid := container.NewGridWithColumns(len(texts))
		for _, head := range heads {
			grid.Add(bold(head))
		}
		for _, text := range texts {
			grid.Add(codeText(strings.TrimRight(text, "\r\n"), a.t("check.diff.empty", nil)))
		}
		box.Add(grid)
	}
	box.Add(widget.NewSeparator())
	box.Add(wrapped(a.t("check.diff.keepHelp", map[string]any{"New": name + merge.NewSuffix})))
	box.Add(wrapped(a.t("check.diff.takeHelp", map[string]any{"Old": name + merge.OldSuffix})))

	var d *dialog.CustomDialog
	choose := func(label string) func() {
		return func() {
			d.Hide()
			s.configChoice.SetSelected(label)
		}
	}
	keep := widget.NewButton(a.t("check.diff.keep", nil), choose(a.t("check.choice.configKeep", nil)))
	take := widget.NewButton(a.t("check.diff.take", nil), choose(a.t("check.choice.configNew", nil)))
	closeB := widget.NewButton(a.t("wizard.close", nil), func() { d.Hide() })
	keep.Importance = widget.HighImportance
	d = dialog.NewCustomWithoutButtons(a.t("check.diff.title", map[string]any{"Path": rel}), container.NewVScroll(box), a.win)
	d.SetButtons([]fyne.CanvasObject{closeB, layout.NewSpacer(), take, keep})
	d.Resize(fyne.NewSize(880, 560))
	d.Show()
	s.diffOpen = d
}

// codeText is lines of a file as they are: monospace, selectable, never wrapped.
func codeText(text, empty string) *widget.Label {
	l := widget.NewLabel(text)
	if text == "" {
		l.SetText(empty)
		l.Importance = widget.LowImportance
		return l
	}
	l.TextStyle.Monospace = true
	l.Selectable = true
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// relabelAppliedConfig lists what the update did to each config file, and the files it
// wrote beside them.
func (s *restartScreen) relabelAppliedConfig() {
	a := s.a
	var lines []string
	if rep := a.applied; rep != nil && a.applyErr == nil {
		for _, c := range rep.Config {
			lines = append(lines, "• "+a.configLine("restart.config.", c))
		}
	}
	if len(lines) == 0 {
		s.config.SetText("")
		s.config.Hide()
		return
	}
	s.config.SetText(a.t("restart.config.heading", nil) + "\n" + strings.Join(lines, "\n"))
	s.config.Show()
}
