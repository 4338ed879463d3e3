package app

import (
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
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

// relayout lays objects out again once the texts set now are drawn: a label whose text
// grows by lines does not make its box taller by itself. Objects go outer last.
func relayout(objs ...fyne.CanvasObject) {
	fyne.Do(func() {
		for _, o := range objs {
			o.Refresh()
		}
	})
}

// commandLine is how this program was started, for a person to type again.
func commandLine() []string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return append([]string{filepath.Clean(exe)}, os.Args[1:]...)
}
