package wizard

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Labels are the wizard's own texts. The caller supplies them already translated and
// hands a new set to Relabel when the language changes.
type Labels struct {
	Back, Next, Finish, Cancel string

	// QuitTitle and QuitMessage ask before Cancel leaves the wizard. With an empty
	// QuitTitle, Cancel leaves at once.
	QuitTitle, QuitMessage string
	// StopTitle and StopMessage ask before Cancel stops running work. With an empty
	// StopTitle, Cancel stops the work at once.
	StopTitle, StopMessage string
	// Yes and No answer those questions; Close dismisses error dialogs.
	Yes, No, Close string
}

// Step is one screen of the wizard. Fill in the fields before handing the step to New;
// afterwards change a step only through its methods, which are safe from any goroutine.
type Step struct {
	Title   string
	Content fyne.CanvasObject
	// NextLabel is the Next button's text on this step ("Update"); empty means
	// Labels.Next, or Labels.Finish on the last step shown.
	NextLabel string
	// NextEnabled is whether Next starts enabled; SetNextEnabled changes it later.
	NextEnabled bool
	// NoBack forbids going back from this step (work that cannot be undone by Back).
	NoBack bool
	// Skip, when set and true, leaves the step out: it is neither shown nor listed.
	// It is asked again at every move and at Refresh.
	Skip func() bool
	// OnEnter runs on the UI goroutine each time the step is shown.
	OnEnter func()
	// OnLeave runs before the step is left, forward (Next) or not (Back); returning
	// false keeps the wizard on the step.
	OnLeave func(forward bool) bool

	wz *Wizard
}

// SetNextEnabled enables or disables Next while this step is shown.
func (s *Step) SetNextEnabled(enabled bool) {
	s.update(func() { s.NextEnabled = enabled })
}

// SetTitle changes the step's title in the heading and the step list.
func (s *Step) SetTitle(title string) {
	s.update(func() { s.Title = title })
}

// SetNextLabel changes the Next button's text on this step (empty: the default).
func (s *Step) SetNextLabel(label string) {
	s.update(func() { s.NextLabel = label })
}

func (s *Step) skipped() bool { return s.Skip != nil && s.Skip() }

// update changes the step on the UI goroutine and refreshes the wizard that shows it.
func (s *Step) update(change func()) {
	if s.wz == nil {
		change()
		return
	}
	fyne.Do(func() {
		change()
		s.wz.refreshChrome()
	})
}

// Wizard shows steps one at a time with Back, Next and Cancel, and a list of the steps
// on the side. Create it with New and set it as (part of) a window's content.
type Wizard struct {
	widget.BaseWidget

	// OnFinish runs when Next is tapped on the last step shown. Nil closes the window.
	OnFinish func()
	// OnCancel runs when the user confirmed Cancel outside running work. Nil closes the
	// window.
	OnCancel func()

	win    fyne.Window
	labels Labels
	steps  []*Step
	cur    int

	heading            *widget.Label
	body               *fyne.Container
	side               *fyne.Container
	back, next, cancel *widget.Button
	cancelDisabled     bool

	stop context.CancelFunc // non-nil while work runs
}

// New makes a wizard of the given steps, showing the first one not skipped. win is the
// window its dialogs belong to.
func New(win fyne.Window, labels Labels, steps ...*Step) *Wizard {
	w := &Wizard{win: win, labels: labels, steps: steps, cur: -1}
	for _, s := range steps {
		s.wz = w
	}
	w.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.heading.SizeName = theme.SizeNameSubHeadingText
	w.body = container.NewStack()
	w.side = container.NewVBox()
	w.back = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), w.Back)
	w.next = widget.NewButton("", w.Next)
	w.next.Importance = widget.HighImportance
	w.cancel = widget.NewButton("", w.Cancel)
	w.ExtendBaseWidget(w)
	// Closing the window is Cancel: it asks, and never walks away from running work.
	// A caller that wants otherwise sets its own intercept after New.
	win.SetCloseIntercept(w.Cancel)
	if i := w.visibleFrom(0, 1); i >= 0 {
		w.show(i)
	}
	w.refreshChrome()
	return w
}

// CreateRenderer lays the wizard out: step list left, heading and content right,
// buttons at the bottom.
func (w *Wizard) CreateRenderer() fyne.WidgetRenderer {
	buttons := container.NewHBox(w.cancel, layout.NewSpacer(), w.back, w.next)
	main := container.NewBorder(w.heading, nil, nil, nil, w.body)
	side := container.NewHBox(container.NewPadded(w.side), widget.NewSeparator())
	bottom := container.NewVBox(widget.NewSeparator(), container.NewPadded(buttons))
	return widget.NewSimpleRenderer(container.NewBorder(nil, bottom, side, nil, container.NewPadded(main)))
}

// Current is the step shown, or nil when every step is skipped.
func (w *Wizard) Current() *Step {
	if w.cur < 0 {
		return nil
	}
	return w.steps[w.cur]
}

// Labels is the set of labels in use.
func (w *Wizard) Labels() Labels { return w.labels }

// Relabel replaces the wizard's labels and redraws every text at once. Safe from any
// goroutine.
func (w *Wizard) Relabel(labels Labels) {
	fyne.Do(func() {
		w.labels = labels
		w.refreshChrome()
	})
}

// Refresh asks every step again whether it is skipped and redraws titles and buttons.
func (w *Wizard) Refresh() {
	w.refreshChrome()
	w.BaseWidget.Refresh()
}

// SetCancelEnabled enables or disables the Cancel button. Safe from any goroutine.
func (w *Wizard) SetCancelEnabled(enabled bool) {
	fyne.Do(func() {
		w.cancelDisabled = !enabled
		w.refreshChrome()
	})
}

// Next leaves the current step forward (as the Next button does); on the last step shown
// it finishes the wizard.
func (w *Wizard) Next() {
	s := w.Current()
	if s == nil || w.Running() || !s.NextEnabled {
		return
	}
	if s.OnLeave != nil && !s.OnLeave(true) {
		return
	}
	i := w.visibleFrom(w.cur+1, 1)
	if i < 0 {
		w.finish()
		return
	}
	w.show(i)
}

// Back goes to the previous step shown, when the current step allows it.
func (w *Wizard) Back() {
	s := w.Current()
	if s == nil || w.Running() || s.NoBack {
		return
	}
	i := w.visibleFrom(w.cur-1, -1)
	if i < 0 {
		return
	}
	if s.OnLeave != nil && !s.OnLeave(false) {
		return
	}
	w.show(i)
}

// Cancel stops running work (the work's context is cancelled) or, when nothing runs,
// leaves the wizard; either after asking, when the labels hold a question.
func (w *Wizard) Cancel() {
	if w.cancelDisabled {
		return
	}
	if w.Running() {
		w.confirm(w.labels.StopTitle, w.labels.StopMessage, func() {
			if w.stop != nil {
				w.stop()
			}
		})
		return
	}
	w.confirm(w.labels.QuitTitle, w.labels.QuitMessage, func() {
		if w.OnCancel != nil {
			w.OnCancel()
			return
		}
		w.win.Close()
	})
}

func (w *Wizard) finish() {
	if w.OnFinish != nil {
		w.OnFinish()
		return
	}
	w.win.Close()
}

// confirm runs yes after the user agreed to the question, or at once when there is none.
func (w *Wizard) confirm(title, message string, yes func()) {
	if title == "" {
		yes()
		return
	}
	text := widget.NewLabel(message)
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm(title, w.labels.Yes, w.labels.No, text, func(ok bool) {
		if ok {
			yes()
		}
	}, w.win)
	d.Resize(fyne.NewSize(420, 0))
	d.Show()
}

func (w *Wizard) show(i int) {
	w.cur = i
	s := w.steps[i]
	if s.Content != nil {
		w.body.Objects = []fyne.CanvasObject{s.Content}
	} else {
		w.body.Objects = nil
	}
	w.body.Refresh()
	w.refreshChrome()
	if s.OnEnter != nil {
		s.OnEnter()
	}
}

// visibleFrom is the first step not skipped from index i on, walking by dir (+1 or -1),
// or -1.
func (w *Wizard) visibleFrom(i, dir int) int {
	for ; i >= 0 && i < len(w.steps); i += dir {
		if !w.steps[i].skipped() {
			return i
		}
	}
	return -1
}

// refreshChrome redraws what depends on the current step and the labels: heading, step
// list and buttons. It runs on the UI goroutine.
func (w *Wizard) refreshChrome() {
	s := w.Current()
	running := w.Running()
	w.back.SetText(w.labels.Back)
	w.cancel.SetText(w.labels.Cancel)
	if w.cancelDisabled {
		w.cancel.Disable()
	} else {
		w.cancel.Enable()
	}
	if s == nil {
		w.heading.SetText("")
		w.next.SetText(w.labels.Next)
		w.next.Disable()
		w.back.Disable()
		w.side.Objects = nil
		w.side.Refresh()
		return
	}
	w.heading.SetText(s.Title)
	last := w.visibleFrom(w.cur+1, 1) < 0
	switch {
	case s.NextLabel != "":
		w.next.SetText(s.NextLabel)
	case last:
		w.next.SetText(w.labels.Finish)
	default:
		w.next.SetText(w.labels.Next)
	}
	setEnabled(w.next, s.NextEnabled && !running)
	setEnabled(w.back, !s.NoBack && !running && w.visibleFrom(w.cur-1, -1) >= 0)
	w.refreshSide()
}

// refreshSide lists the steps shown: done ones ticked, the current one marked and bold.
func (w *Wizard) refreshSide() {
	w.side.Objects = w.side.Objects[:0]
	for i, s := range w.steps {
		if s.skipped() {
			continue
		}
		icon := widget.NewIcon(nil)
		label := widget.NewLabel(s.Title)
		switch {
		case i < w.cur:
			icon.SetResource(theme.ConfirmIcon())
		case i == w.cur:
			icon.SetResource(theme.NavigateNextIcon())
			label.TextStyle.Bold = true
			label.Importance = widget.HighImportance
		}
		w.side.Objects = append(w.side.Objects, container.NewHBox(icon, label))
	}
	w.side.Refresh()
}

// StepList is the titles in the step list as shown, the current one first marked with
// "> " and done ones with "+ ". It exists for tests and screen readers of the layout.
func (w *Wizard) StepList() []string {
	var out []string
	for i, s := range w.steps {
		if s.skipped() {
			continue
		}
		switch {
		case i < w.cur:
			out = append(out, "+ "+s.Title)
		case i == w.cur:
			out = append(out, "> "+s.Title)
		default:
			out = append(out, "  "+s.Title)
		}
	}
	return out
}

// Buttons returns the Back, Next and Cancel buttons, for tests and screenshots.
func (w *Wizard) Buttons() (back, next, cancel *widget.Button) {
	return w.back, w.next, w.cancel
}

func setEnabled(b *widget.Button, enabled bool) {
	if enabled {
		b.Enable()
	} else {
		b.Disable()
	}
}
