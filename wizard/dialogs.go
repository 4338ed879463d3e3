package wizard

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// ErrorReport is what an error dialog tells, each text supplied (translated) by the
// caller: what happened, what was left as it was, and where the log is.
type ErrorReport struct {
	Title    string
	Happened string
	Kept     string
	Log      string
}

// ShowError shows report in a dialog closed by the Close label. The texts are selectable,
// so a path can be copied. Safe from any goroutine.
func (w *Wizard) ShowError(report ErrorReport) {
	fyne.Do(func() {
		d := dialog.NewCustom(report.Title, w.labels.Close, errorContent(report), w.win)
		d.Resize(fyne.NewSize(520, 0))
		d.Show()
	})
}

func errorContent(report ErrorReport) fyne.CanvasObject {
	box := container.NewVBox()
	for i, text := range []string{report.Happened, report.Kept, report.Log} {
		if text == "" {
			continue
		}
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		l.Selectable = true
		if i == 0 {
			l.Importance = widget.DangerImportance
		}
		box.Add(l)
	}
	return box
}
