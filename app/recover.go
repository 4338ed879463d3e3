package app

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
)

// recoverPanel, on the first screen, says that an earlier run was interrupted and
// offers to recover it (finish or undo it) before anything else.
type recoverPanel struct {
	a *App
	// changed redraws the screen the panel is on (its Next depends on the panel).
	changed func()

	actionPanel

	running bool
	done    *upgrade.RunReport
	err     error
}

func newRecoverPanel(a *App, changed func()) *recoverPanel {
	p := &recoverPanel{a: a, changed: changed}
	p.actionPanel = newActionPanel(p.run)
	p.title.Importance = widget.WarningImportance
	p.button.Importance = widget.HighImportance
	return p
}

// relabel shows the panel while a run waits or its recovery has an outcome to tell;
// root is the installation's folder.
func (p *recoverPanel) relabel(root string) {
	a := p.a
	if !a.loaded || (a.pending == nil && p.done == nil && p.err == nil) {
		p.box.Hide()
		return
	}
	p.title.SetText(a.t("recover.title", nil))
	p.message.SetText(a.t("recover.message", map[string]any{"Root": root}))
	p.button.SetText(a.t("recover.button", nil))
	setEnabled(p.button, a.pending != nil && !p.running && a.elevated)
	switch {
	case p.running:
		p.result.SetText(a.t("recover.state.running", nil))
	case p.err != nil:
		p.result.Importance = widget.DangerImportance
		p.result.SetText(a.t("recover.state.failed", map[string]any{"Error": p.err.Error()}) + "\n" +
			a.t("error.log", map[string]any{"Path": a.LogPath()}))
	case p.done != nil:
		p.result.Importance = widget.SuccessImportance
		p.result.SetText(a.t("recover.done", map[string]any{"Version": p.done.Version}))
	default:
		p.result.SetText("")
	}
	p.box.Show()
}

// run finishes or undoes the interrupted run, off the UI goroutine.
func (p *recoverPanel) run() {
	a := p.a
	if p.running {
		return
	}
	p.running = true
	p.err = nil
	p.changed()
	sess, serr := a.session(a.ctx)
	go func() {
		rep, err := recoverWith(a.ctx, sess, serr)
		fyne.Do(func() {
			p.running = false
			p.done, p.err = rep, err
			if err == nil {
				a.pending = nil
				if a.in != nil && rep != nil {
					a.log.Logf("recovered: %s, OMFLOW %s", rep.Action, rep.Version)
				}
			}
			p.changed()
		})
	}()
}

// recoverWith recovers the interrupted run on sess; err is why there is no session.
func recoverWith(ctx context.Context, sess *upgrade.Session, err error) (*upgrade.RunReport, error) {
	if err != nil {
		return nil, err
	}
	return sess.Recover(ctx)
}
