package app

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/i18n"
	"omflow-upgrade/upgrade"
	"omflow-upgrade/wizard"
)

// languageScreen lists the languages, each in its own name, with the OS locale's
// preselected. Before anything else it says when the wizard lacks administrator rights
// (and offers to restart through pkexec) and when an earlier run was interrupted (and
// offers to recover it).
type languageScreen struct {
	a    *App
	step *wizard.Step

	prompt, suggested *widget.Label
	langs             *widget.RadioGroup

	rootBox                      *fyne.Container
	rootTitle, rootMsg, rootHint *widget.Label
	rootButton                   *widget.Button
	relaunchErr                  error

	recoverBox               *fyne.Container
	recoverTitle, recoverMsg *widget.Label
	recoverButton            *widget.Button
	recovering               bool
	recovered                *upgrade.RunReport
	recoverErr               error
	recoverResult            *widget.Label
	rollback                 *rollbackPanel
	body                     *fyne.Container
	scroll                   *container.Scroll
}

func newLanguageScreen(a *App) *languageScreen {
	s := &languageScreen{a: a}
	s.prompt = widget.NewLabel("")
	s.suggested = widget.NewLabel("")
	var names []string
	for _, l := range i18n.Languages() {
		names = append(names, l.Name)
	}
	s.langs = widget.NewRadioGroup(names, func(name string) {
		for _, l := range i18n.Languages() {
			if l.Name == name {
				a.SetLanguage(l.Code)
			}
		}
	})
	s.langs.Required = true
	s.langs.SetSelected(i18n.LanguageOf(a.cfg.Language).Name)

	s.rootTitle = bold("")
	s.rootTitle.Importance = widget.DangerImportance
	s.rootMsg = wrapped("")
	s.rootHint = wrapped("")
	s.rootHint.Selectable = true
	s.rootButton = widget.NewButton("", a.relaunch)
	s.rootButton.Importance = widget.HighImportance
	s.rootBox = container.NewVBox(widget.NewSeparator(), s.rootTitle, s.rootMsg,
		container.NewHBox(s.rootButton), s.rootHint)
	s.rootBox.Hide()

	s.recoverTitle = bold("")
	s.recoverTitle.Importance = widget.WarningImportance
	s.recoverMsg = wrapped("")
	s.recoverButton = widget.NewButton("", s.recover)
	s.recoverButton.Importance = widget.HighImportance
	s.recoverResult = wrapped("")
	s.recoverBox = container.NewVBox(widget.NewSeparator(), s.recoverTitle, s.recoverMsg,
		container.NewHBox(s.recoverButton), s.recoverResult)
	s.recoverBox.Hide()

	s.rollback = newRollbackPanel(a)
	s.body = container.NewVBox(s.prompt, s.langs, s.suggested, s.rootBox, s.recoverBox, s.rollback.box)
	s.scroll = container.NewVScroll(s.body)
	s.step = &wizard.Step{
		Content: s.scroll,
	}
	s.relabel()
	return s
}

func (s *languageScreen) relabel() {
	a := s.a
	s.step.SetTitle(a.t("language.title", nil))
	s.prompt.SetText(a.t("language.prompt", nil))
	s.suggested.SetText(a.t("language.suggested", map[string]any{"Language": i18n.LanguageOf(i18n.Detect()).Name}))
	root := a.cfg.Root
	if a.in != nil {
		root = a.in.Root
	}

	if a.loaded && !a.elevated {
		s.rootTitle.SetText(a.t("root.title", nil))
		s.rootMsg.SetText(a.t("root.message", map[string]any{"Root": root}))
		s.rootButton.SetText(a.t("root.pkexec", nil))
		setVisible(s.rootButton, len(a.cfg.Relaunch) > 0)
		hint := a.t("root.manual", map[string]any{"Command": "sudo " + strings.Join(commandLine(), " ")})
		if s.relaunchErr != nil {
			hint = a.t("root.failed", map[string]any{"Error": s.relaunchErr.Error()}) + "\n" + hint
		}
		s.rootHint.SetText(hint)
		s.rootBox.Show()
	} else {
		s.rootBox.Hide()
	}

	if a.loaded && (a.pending != nil || s.recovered != nil || s.recoverErr != nil) {
		s.recoverTitle.SetText(a.t("recover.title", nil))
		s.recoverMsg.SetText(a.t("recover.message", map[string]any{"Root": root}))
		s.recoverButton.SetText(a.t("recover.button", nil))
		setEnabled(s.recoverButton, a.pending != nil && !s.recovering && a.elevated)
		switch {
		case s.recovering:
			s.recoverResult.SetText(a.t("recover.state.running", nil))
		case s.recoverErr != nil:
			s.recoverResult.Importance = widget.DangerImportance
			s.recoverResult.SetText(a.t("recover.state.failed", map[string]any{"Error": s.recoverErr.Error()}) + "\n" +
				a.t("error.log", map[string]any{"Path": a.LogPath()}))
		case s.recovered != nil:
			s.recoverResult.Importance = widget.SuccessImportance
			s.recoverResult.SetText(a.t("recover.done", map[string]any{"Version": s.recovered.Version}))
		default:
			s.recoverResult.SetText("")
		}
		s.recoverBox.Show()
	} else {
		s.recoverBox.Hide()
	}
	s.rollback.relabel()
	s.step.SetNextEnabled(a.loaded && a.elevated && a.pending == nil && !s.recovering && !s.rollback.running)
	s.a.relayout(s.step, s.rootBox, s.recoverBox, s.rollback.box, s.body, s.scroll)
}

// recover finishes or undoes the interrupted run, off the UI goroutine.
func (s *languageScreen) recover() {
	a := s.a
	if s.recovering {
		return
	}
	s.recovering = true
	s.recoverErr = nil
	s.relabel()
	sess, serr := a.session(context.Background())
	go func() {
		rep, err := recoverWith(context.Background(), sess, serr)
		fyne.Do(func() {
			s.recovering = false
			s.recovered, s.recoverErr = rep, err
			if err == nil {
				a.pending = nil
				if a.in != nil && rep != nil {
					a.log.Logf("recovered: %s, OMFLOW %s", rep.Action, rep.Version)
				}
			}
			s.relabel()
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
