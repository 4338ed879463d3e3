package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/i18n"
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

	recovery *recoverPanel
	rollback *rollbackPanel
	body     *fyne.Container
	scroll   *container.Scroll
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

	s.recovery = newRecoverPanel(a, s.relabel)
	s.rollback = newRollbackPanel(a)
	s.body = container.NewVBox(s.prompt, s.langs, s.suggested, s.rootBox, s.recovery.box, s.rollback.box)
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

	s.recovery.relabel(root)
	s.rollback.relabel()
	s.step.SetNextEnabled(a.loaded && a.elevated && a.pending == nil && !s.recovery.running && !s.rollback.running)
	s.a.relayout(s.step, s.rootBox, s.recovery.box, s.rollback.box, s.body, s.scroll)
}
