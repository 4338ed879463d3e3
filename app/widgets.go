package app

import (
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/wizard"
)

// wrapped is a label whose text wraps at the screen's width.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// bold is a wrapped label in bold: a heading inside a screen.
func bold(text string) *widget.Label {
	l := wrapped(text)
	l.TextStyle.Bold = true
	return l
}

// actionPanel is the look of a first-screen panel that offers one action (recovering
// an interrupted run, rolling back the last update): a title, a message, the action's
// button and, below, what became of it. It starts hidden.
type actionPanel struct {
	box            *fyne.Container
	title, message *widget.Label
	button         *widget.Button
	result         *widget.Label
}

func newActionPanel(tapped func()) actionPanel {
	p := actionPanel{title: bold(""), message: wrapped(""), button: widget.NewButton("", tapped), result: wrapped("")}
	p.box = container.NewVBox(widget.NewSeparator(), p.title, p.message, container.NewHBox(p.button), p.result)
	p.box.Hide()
	return p
}

// setImportance changes a label's importance and redraws it.
func setImportance(l *widget.Label, imp widget.Importance) {
	if l.Importance != imp {
		l.Importance = imp
		l.Refresh()
	}
}

func setEnabled(d fyne.Disableable, enabled bool) {
	if enabled {
		d.Enable()
	} else {
		d.Disable()
	}
}

func setVisible(o fyne.CanvasObject, visible bool) {
	if visible {
		o.Show()
	} else {
		o.Hide()
	}
}

// relayout lays the objects of step's screen out again once the texts set now are drawn:
// a label whose text grows by lines does not make its box taller by itself. Objects go
// outer last. A screen not shown is laid out when it is shown: measuring texts no one
// sees (every screen is labelled at start) would hold up the window's first frame.
func (a *App) relayout(step *wizard.Step, objs ...fyne.CanvasObject) {
	fyne.Do(func() {
		if step != a.shown {
			a.laidOut[step] = objs
			return
		}
		refreshAll(objs)
	})
}

// layOutShown lays out what the screen now shown asked for while it was not.
func (a *App) layOutShown() {
	if objs, ok := a.laidOut[a.shown]; ok {
		delete(a.laidOut, a.shown)
		refreshAll(objs)
	}
}

func refreshAll(objs []fyne.CanvasObject) {
	for _, o := range objs {
		o.Refresh()
	}
}

// commandLine is how this program was started, for a person to type again.
func commandLine() []string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return append([]string{filepath.Clean(exe)}, os.Args[1:]...)
}
