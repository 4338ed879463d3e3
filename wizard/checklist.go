package wizard

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// State is where an item of a Checklist stands.
type State int

// The states of a checklist item.
const (
	Pending State = iota // not started: no mark
	Running              // in progress: an arrow
	Passed               // done or passed: a tick
	Failed               // failed: a cross, the text in red
	Warning              // passed with a warning: a warning sign, the detail in red
)

// Checklist is a list of named items, each with a mark (pending, running, passed,
// failed) and an optional detail line under it: the checks of a compatibility screen or
// the stages of an update. Set is safe from any goroutine.
type Checklist struct {
	widget.BaseWidget

	ids   []string
	items map[string]*checkItem
	box   *fyne.Container
}

type checkItem struct {
	State  State
	Text   string
	Detail string
}

// NewChecklist makes an empty checklist.
func NewChecklist() *Checklist {
	c := &Checklist{items: map[string]*checkItem{}, box: container.NewVBox()}
	c.ExtendBaseWidget(c)
	return c
}

// CreateRenderer stacks the items.
func (c *Checklist) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(c.box)
}

// Set adds the item id, or changes it when it exists: its text, state and detail.
func (c *Checklist) Set(id, text string, state State, detail string) {
	fyne.Do(func() {
		it, ok := c.items[id]
		if !ok {
			it = &checkItem{}
			c.items[id] = it
			c.ids = append(c.ids, id)
		}
		it.State, it.Text, it.Detail = state, text, detail
		c.rebuild()
	})
}

// Clear removes every item.
func (c *Checklist) Clear() {
	fyne.Do(func() {
		c.ids, c.items = nil, map[string]*checkItem{}
		c.rebuild()
	})
}

// Item reads back an item's state, text and detail; ok is false when there is none.
func (c *Checklist) Item(id string) (state State, text, detail string, ok bool) {
	it, ok := c.items[id]
	if !ok {
		return Pending, "", "", false
	}
	return it.State, it.Text, it.Detail, true
}

func (c *Checklist) rebuild() {
	c.box.Objects = c.box.Objects[:0]
	for _, id := range c.ids {
		it := c.items[id]
		icon := widget.NewIcon(nil)
		text := widget.NewLabel(it.Text)
		text.Wrapping = fyne.TextWrapWord
		detail := widget.NewLabel(it.Detail)
		detail.Wrapping = fyne.TextWrapWord
		detail.Selectable = true
		switch it.State {
		case Running:
			icon.SetResource(theme.NavigateNextIcon())
			text.TextStyle.Bold = true
		case Passed:
			icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		case Failed:
			icon.SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
			text.Importance = widget.DangerImportance
			detail.Importance = widget.DangerImportance
		case Warning:
			icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
			detail.Importance = widget.DangerImportance
		}
		// Name and detail read as one item: the labels' own padding is spacing enough.
		lines := container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()*2), text)
		if it.Detail != "" {
			lines.Add(detail)
		}
		// The mark sits level with the first line of the name.
		pad := (text.MinSize().Height - theme.IconInlineSize()) / 2
		mark := container.New(layout.NewCustomPaddedLayout(pad, 0, 0, 0), icon)
		c.box.Add(container.NewBorder(nil, nil, container.NewVBox(mark), nil, lines))
	}
	c.box.Refresh()
}
