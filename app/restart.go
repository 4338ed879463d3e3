package app

import (
	"errors"
	"fmt"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/wizard"
)

// restartScreen says how the service came back: the result of the restart and the
// health check (service state, the URL that answered, the downtime), or, on failure, the
// automatic rollback and its result; and where the log and the backup are.
type restartScreen struct {
	a    *App
	step *wizard.Step

	result, detail, service, url, downtime, backup, logPath *widget.Label
	config, errDetail                                       *widget.Label
	body                                                    *fyne.Container
	scroll                                                  *container.Scroll

	status  *upgrade.StatusReport
	statErr error
	asking  bool
	settled atomic.Bool
}

func newRestartScreen(a *App) *restartScreen {
	s := &restartScreen{a: a}
	s.result = bold("")
	s.detail = wrapped("")
	s.service, s.url, s.downtime = wrapped(""), wrapped(""), wrapped("")
	s.backup, s.logPath = wrapped(""), wrapped("")
	s.config = wrapped("")
	// The core's English text of a failure, smaller, for a ticket.
	s.errDetail = wrapped("")
	s.errDetail.Selectable = true
	s.errDetail.SizeName = theme.SizeNameCaptionText
	s.backup.Selectable, s.logPath.Selectable, s.config.Selectable = true, true, true
	s.body = container.NewVBox(s.result, s.errDetail, s.detail, widget.NewSeparator(), s.service, s.url, s.downtime, s.config, s.backup, s.logPath)
	s.scroll = container.NewVScroll(s.body)
	s.step = &wizard.Step{
		NoBack:      true,
		NextEnabled: true,
		Content:     s.scroll,
		OnEnter:     s.ask,
	}
	s.relabel()
	return s
}

// ask reads the service's state and health now, in the background.
func (s *restartScreen) ask() {
	a := s.a
	s.asking = true
	s.settled.Store(false)
	s.relabel()
	sess, err := a.session(a.ctx)
	go func() {
		var st *upgrade.StatusReport
		if err == nil {
			st, err = sess.Status(a.ctx)
		}
		fyne.Do(func() {
			s.asking = false
			s.status, s.statErr = st, err
			s.relabel()
			s.settled.Store(true)
		})
	}()
}

func (s *restartScreen) relabel() {
	a := s.a
	s.step.SetTitle(a.t("restart.title", nil))
	rep, err := a.applied, a.applyErr
	var failed *outcome.FailedError
	detail := ""
	switch {
	case !a.update.finished:
		s.result.SetText("")
	case err == nil:
		s.result.SetText(a.t("restart.healthy", map[string]any{"Version": rep.Version}))
		setImportance(s.result, widget.SuccessImportance)
	case errors.As(err, &failed):
		if a.update.cancelled {
			s.result.SetText(a.t("update.rolledBack", map[string]any{"Version": a.versionNow()}))
			setImportance(s.result, widget.WarningImportance)
		} else {
			s.result.SetText(a.happened(err, a.update.failed))
			setImportance(s.result, widget.DangerImportance)
		}
		if failed.RolledBack {
			detail = a.t("restart.rolledBack", map[string]any{"Version": a.versionNow()})
		} else {
			detail = a.t("restart.rollbackFailed", map[string]any{"Manual": failed.Manual})
		}
	default:
		s.result.SetText(a.happened(err, a.update.failed))
		setImportance(s.result, widget.DangerImportance)
		detail = a.t("error.keptNothing", nil)
	}
	s.detail.SetText(detail)
	s.errDetail.SetText(errorDetail(err))
	setVisible(s.errDetail, err != nil && a.update.finished && !a.update.cancelled)
	setVisible(s.detail, detail != "")

	switch st := s.status; {
	case s.asking:
		s.service.SetText(a.t("restart.restarting", nil))
		s.url.SetText("")
	case st != nil:
		s.service.SetText(a.t("restart.status.service", map[string]any{"State": a.stateName(st.Service), "Version": st.Version}))
		if st.Healthy {
			s.url.SetText(a.t("restart.status.answered", map[string]any{"URL": st.Health}))
			setImportance(s.url, widget.SuccessImportance)
		} else {
			s.url.SetText(a.t("restart.status.notAnswering", map[string]any{"URL": st.Health}))
			setImportance(s.url, widget.DangerImportance)
		}
	case s.statErr != nil:
		s.service.SetText(a.t("restart.status.service", map[string]any{"State": a.stateName("unknown"), "Version": ""}))
		s.url.SetText(s.statErr.Error())
	default:
		s.service.SetText("")
		s.url.SetText("")
	}
	down := ""
	if rep != nil && err == nil && rep.Downtime > 0 {
		down = a.t("update.downtime", map[string]any{"Seconds": fmt.Sprintf("%.1f", rep.Downtime.Seconds())})
	}
	s.downtime.SetText(down)
	setVisible(s.downtime, down != "")
	bk := ""
	switch {
	case rep != nil && rep.Backup != "":
		bk = a.t("restart.backup", map[string]any{"Path": rep.Backup})
	case rep != nil && err == nil && s.status != nil && len(s.status.Backups) > 0:
		// A chain: the newest backup is the last step's.
		bk = a.t("restart.backup", map[string]any{"Path": s.status.Backups[0].Path})
	}
	s.relabelAppliedConfig()
	s.backup.SetText(bk)
	setVisible(s.backup, bk != "")
	s.logPath.SetText(a.t("restart.log", map[string]any{"Path": a.LogPath()}))
	s.a.relayout(s.step, s.body, s.scroll)
}
