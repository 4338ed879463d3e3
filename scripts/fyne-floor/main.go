// Command fyne-floor is the smallest Fyne program: one window holding one label. The
// wizard's benchmark (scripts/bench-wizard.sh) starts it beside the wizard, under the
// same X server, to print what any Fyne window costs on the machine (start-up, resident
// memory) apart from what the wizard adds. It writes the time of its first frame into
// the file OMFLOW_WIZARD_FIRST_FRAME names, as the wizard does.
package main

import (
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/wizard"
)

func main() {
	a := app.New()
	w := a.NewWindow("floor")
	w.Resize(fyne.NewSize(960, 660))
	w.SetContent(wizard.ReportFirstFrame(widget.NewLabel("OMFLOW"), os.Getenv("OMFLOW_WIZARD_FIRST_FRAME")))
	w.ShowAndRun()
}
