package app

import (
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/merge"
)

// fileActions are the dry run's actions, in the order the Details list groups them.
var fileActions = []merge.Action{merge.ActionAdd, merge.ActionReplace, merge.ActionMerge,
	merge.ActionConflict, merge.ActionKeep, merge.ActionDelete}

// details is the check screen's Details part: every file the update adds, replaces,
// deletes, merges or keeps (the core's dry run, check -files), with sizes and the total.
// Collapsed until the administrator opens it; a package holds thousands of files, so the
// list draws only the rows in sight.
type details struct {
	a       *App
	item    *widget.AccordionItem
	acc     *widget.Accordion
	summary *widget.Label
	list    *widget.List
	files   []upgrade.FileAction
}

func newDetails(a *App) *details {
	d := &details{a: a, summary: wrapped("")}
	d.list = widget.NewList(func() int { return len(d.files) }, func() fyne.CanvasObject {
		// The list lays a row out once, from this template: the columns get fixed widths.
		action, size := widget.NewLabel(""), widget.NewLabel("")
		size.Alignment = fyne.TextAlignTrailing
		path := widget.NewLabel("")
		path.Truncation = fyne.TextTruncateEllipsis
		path.TextStyle.Monospace = true
		h := action.MinSize().Height
		return container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(110, h), action),
			container.NewGridWrap(fyne.NewSize(100, h), size), path)
	}, func(id widget.ListItemID, o fyne.CanvasObject) {
		f := d.files[id]
		row := o.(*fyne.Container)
		row.Objects[1].(*fyne.Container).Objects[0].(*widget.Label).SetText(d.actionName(f.Action))
		row.Objects[2].(*fyne.Container).Objects[0].(*widget.Label).SetText(humanBytes(f.Size))
		row.Objects[0].(*widget.Label).SetText(f.Path)
	})
	d.item = widget.NewAccordionItem("", container.NewBorder(d.summary, nil, nil, nil,
		container.New(minHeight(260), d.list)))
	d.acc = widget.NewAccordion(d.item)
	return d
}

// actionKeys are the message ids of the files' actions.
var actionKeys = map[string]string{
	"add": "check.files.action.add", "replace": "check.files.action.replace", "delete": "check.files.action.delete",
	"merge": "check.files.action.merge", "keep": "check.files.action.keep", "conflict": "check.files.action.conflict",
}

// actionName is an action's word in the language in use (the core's word when the
// wizard has none).
func (d *details) actionName(action string) string {
	if id, ok := actionKeys[action]; ok {
		return d.a.t(id, nil)
	}
	return action
}

// set shows the files of r (nil: none, the part hides).
func (d *details) set(r *upgrade.CheckReport) {
	a := d.a
	d.files = nil
	if r != nil {
		d.files = append(d.files, r.Files...)
	}
	rank := func(action string) int {
		for i, x := range fileActions {
			if string(x) == action {
				return i
			}
		}
		return len(fileActions)
	}
	sort.SliceStable(d.files, func(i, j int) bool {
		fi, fj := d.files[i], d.files[j]
		if ri, rj := rank(fi.Action), rank(fj.Action); ri != rj {
			return ri < rj
		}
		return fi.Path < fj.Path
	})
	count, size := map[string]int{}, map[string]int64{}
	var written, deleted int64
	for _, f := range d.files {
		count[f.Action]++
		size[f.Action] += f.Size
		switch merge.Action(f.Action) {
		case merge.ActionAdd, merge.ActionReplace, merge.ActionMerge:
			written += f.Size
		case merge.ActionDelete:
			deleted += f.Size
		}
	}
	var groups []string
	for _, x := range fileActions {
		if n := count[string(x)]; n > 0 {
			groups = append(groups, a.t("check.files.group", map[string]any{"Action": d.actionName(string(x)),
				"Count": n, "Size": humanBytes(size[string(x)])}))
		}
	}
	d.item.Title = a.loc.Plural("check.files.title", len(d.files), map[string]any{"Size": humanBytes(written)})
	d.summary.SetText(strings.Join(groups, " · ") + "\n" +
		a.t("check.files.total", map[string]any{"Written": humanBytes(written), "Deleted": humanBytes(deleted)}))
	d.acc.Refresh()
	d.list.Refresh()
	setVisible(d.acc, len(d.files) > 0)
}

// minHeight lays its objects over each other, at least h tall.
type minHeight float32

func (h minHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(0, float32(h))
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

func (h minHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}
