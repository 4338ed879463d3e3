// Package wizard is a small, generic Fyne wizard: a list of steps shown one at a time with
// Back, Next and Cancel, a step list on the side, a helper for long work (progress bar and
// live log) and error dialogs. It knows nothing of the program that uses it: every label is
// supplied by the caller, so a change of language relabels everything at once.
//
//	agree := &wizard.Step{Title: "License", Content: box}       // Next disabled until...
//	box.OnChanged = func(on bool) { agree.SetNextEnabled(on) } // ...any goroutine enables it
//	work := wizard.NewWork(0)
//	update := &wizard.Step{Title: "Update", Content: work, NoBack: true, OnEnter: func() {
//		wz.Run(work, func(ctx context.Context, r wizard.Reporter) error {
//			r.Status("Backing up"); r.Progress(0.1); r.Logf("copied %s", name)
//			return apply(ctx) // Cancel (after asking) cancels ctx
//		}, func(err error) { update.SetNextEnabled(err == nil) })
//	}}
//	python := &wizard.Step{Title: "Python packages", Skip: func() bool { return !needPython }}
//	wz := wizard.New(win, labels, language, agree, check, update, python, restart)
//	win.SetContent(wz)
//	...
//	wz.Relabel(newLabels) // and Step.SetTitle / SetNextLabel, when the language changes
//
// Goroutines: every Step and Wizard setter, Reporter method, Log.Append, Checklist.Set and
// ShowError is safe from any goroutine (it goes through fyne.Do); Next, Back, Cancel and
// Run are for the UI goroutine. Work batches what it is told and redraws at most ten
// times a second, so no amount of output freezes the window.
package wizard
