package app

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
)

// rollbackPanel, on the first screen, offers to undo the last update while its backup
// is kept. When the site has written to its database since that update, it asks what
// to do with today's data before anything changes, as rollback does on the command line.
type rollbackPanel struct {
	a *App

	actionPanel

	running  bool
	done     *upgrade.RunReport
	err      error
	question dialog.Dialog // open while the administrator chooses
}

func newRollbackPanel(a *App) *rollbackPanel {
	p := &rollbackPanel{a: a}
	p.actionPanel = newActionPanel(func() { p.run(upgrade.DataRefuse) })
	return p
}

func (p *rollbackPanel) relabel() {
	a := p.a
	b := a.lastBackup
	if !a.loaded || (b == nil && p.done == nil && p.err == nil) {
		p.box.Hide()
		return
	}
	if b != nil {
		vers := map[string]any{"From": b.From, "To": b.To, "Time": b.Time.Local().Format("2006-01-02 15:04")}
		p.title.SetText(a.t("rollback.title", vers))
		p.message.SetText(a.t("rollback.message", vers))
		p.button.SetText(a.t("rollback.button", vers))
	}
	setVisible(p.button, b != nil)
	setEnabled(p.button, b != nil && !p.running && a.elevated && a.pending == nil)
	switch {
	case p.running:
		p.result.Importance = widget.MediumImportance
		p.result.SetText(a.t("rollback.running", nil))
	case p.err != nil:
		p.result.Importance = widget.DangerImportance
		p.result.SetText(a.happened(p.err, "") + "\n" + errorDetail(p.err) + "\n" + a.t("error.log", map[string]any{"Path": a.LogPath()}))
	case p.done != nil:
		p.result.Importance = widget.SuccessImportance
		text := a.t("rollback.done", map[string]any{"Version": p.done.Version})
		switch upgrade.DataChoice(p.done.Database) {
		case upgrade.DataFilesOnly:
			text += "\n" + a.t("rollback.keptToday", nil)
		case upgrade.DataDiscard:
			text += "\n" + a.t("rollback.discarded", map[string]any{"Path": p.done.DatabaseKept})
		}
		p.result.SetText(text)
	default:
		p.result.SetText("")
	}
	p.box.Show()
}

// run rolls the last update back, off the UI goroutine, with choice for a database
// written to since; a refusal for that reason asks the question.
func (p *rollbackPanel) run(choice upgrade.DataChoice) {
	a := p.a
	if p.running {
		return
	}
	p.running, p.err, p.done = true, nil, nil
	a.relabel()
	sess, inErr := a.session(a.ctx)
	go func() {
		var rep *upgrade.RunReport
		err := inErr
		var in *install.Installation
		if err == nil {
			rep, err = sess.With(func(o *upgrade.Options) { o.RollbackData = choice }).Rollback(a.ctx)
			in = sess.Installation() // the version rolled back to
		}
		fyne.Do(func() {
			p.running = false
			var refused *outcome.RefusedError
			if errors.As(err, &refused) && refused.Reason == upgrade.ReasonDatabaseChangedSince && choice == upgrade.DataRefuse {
				p.ask(err)
				a.relabel()
				return
			}
			p.done, p.err = rep, err
			if err == nil {
				a.log.Logf("rolled back: OMFLOW %s", rep.Version)
				a.lastBackup = nil
				if inErr == nil {
					a.in = in
				}
			}
			a.relabel()
		})
	}()
}

// ask says that the site has written to its database since the update, and what each
// way back does with it.
func (p *rollbackPanel) ask(refusal error) {
	a := p.a
	box := container.NewVBox()
	for _, text := range []string{a.t("rollback.ask.message", nil), a.t("rollback.ask.filesOnly", nil), a.t("rollback.ask.discard", nil)} {
		box.Add(wrapped(text))
	}
	detail := wrapped(errorDetail(refusal))
	detail.Selectable = true
	detail.SizeName = theme.SizeNameCaptionText
	box.Add(detail)
	var d *dialog.CustomDialog
	choose := func(c upgrade.DataChoice) func() {
		return func() {
			d.Hide()
			p.question = nil
			if c != upgrade.DataRefuse {
				p.run(c)
			}
		}
	}
	keep := widget.NewButton(a.t("rollback.ask.filesOnlyButton", nil), choose(upgrade.DataFilesOnly))
	keep.Importance = widget.HighImportance
	discard := widget.NewButton(a.t("rollback.ask.discardButton", nil), choose(upgrade.DataDiscard))
	cancel := widget.NewButton(a.t("wizard.cancel", nil), choose(upgrade.DataRefuse))
	d = dialog.NewCustomWithoutButtons(a.t("rollback.ask.title", nil), box, a.win)
	d.SetButtons([]fyne.CanvasObject{cancel, layout.NewSpacer(), discard, keep})
	d.Resize(fyne.NewSize(640, 0))
	d.Show()
	p.question = d
}
