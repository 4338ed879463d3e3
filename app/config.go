package app

import (
	"path"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/merge"
)

// configDiff is what the administrator and the update each did to a config file that
// conflicts, for the difference view (the core reads the three copies).
type configDiff = upgrade.ConfigDiff

// configDiffs are the conflicting config files of a check.
var configDiffs = upgrade.ConfigDiffs

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
