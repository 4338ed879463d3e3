package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/i18n"
	"omflow-upgrade/wizard"
)

// licenseScreen shows the package's license in the chosen language (English when the
// package has none in it); Next needs "I agree". Without a package it offers to choose
// one.
type licenseScreen struct {
	a    *App
	step *wizard.Step

	prompt, note, text *widget.Label
	scroll             *container.Scroll
	choose             *widget.Button
	agree              *widget.Check
}

func newLicenseScreen(a *App) *licenseScreen {
	s := &licenseScreen{a: a}
	s.prompt = wrapped("")
	s.note = wrapped("")
	s.note.Importance = widget.WarningImportance
	s.text = wrapped("")
	s.text.Selectable = true
	s.scroll = container.NewVScroll(s.text)
	s.choose = widget.NewButton("", a.choosePackage)
	s.agree = widget.NewCheck("", func(bool) { s.relabel() })
	s.step = &wizard.Step{
		Content: container.NewBorder(container.NewVBox(s.prompt, s.note, container.NewHBox(s.choose)), s.agree, nil, nil, s.scroll),
	}
	s.relabel()
	return s
}

func (s *licenseScreen) relabel() {
	a := s.a
	s.step.SetTitle(a.t("license.title", nil))
	s.agree.Text = a.t("license.agree", nil)
	s.agree.Refresh()
	s.choose.SetText(a.t("license.package.choose", nil))
	version := ""
	if a.pkg != nil {
		version = a.pkg.Version()
	}
	s.prompt.SetText(a.t("license.prompt", map[string]any{"Version": version}))
	note, text := "", ""
	setVisible(s.choose, a.loaded && (a.cfg.Package == "" || a.pkgErr != nil))
	switch {
	case !a.loaded:
		text = a.t("license.package.loading", nil)
	case a.cfg.Package == "":
		text = a.t("license.package.none", nil)
	case a.pkgErr != nil:
		text = a.t("check.refused.badPackage", map[string]any{"Error": a.pkgErr.Error()})
	case a.pkg == nil && a.folder:
		text = a.planProblem()
	case a.pkg == nil:
		text = a.t("license.package.loading", nil)
	case a.pkg.Manifest == nil:
		text = a.t("license.none", nil)
	default:
		lic, tag, ok := a.pkg.Manifest.License(a.loc.Language().Code)
		if !ok {
			text = a.t("license.none", nil)
			break
		}
		text = lic
		if i18n.Match(tag) != a.loc.Language().Code {
			note = a.t("license.englishOnly", map[string]any{"Language": a.loc.Language().Name})
		}
	}
	s.note.SetText(note)
	setVisible(s.note, note != "")
	if text = strings.TrimRight(text, "\n"); s.text.Text != text {
		s.text.SetText(text)
		s.scroll.ScrollToTop()
	}
	// A folder without a chain goes on to the check screen, which explains.
	s.step.SetNextEnabled(s.agree.Checked && (a.pkg != nil || (a.folder && a.loaded)))
}

// choosePackage asks for the update package file.
func (a *App) choosePackage() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		a.SetPackage(path)
	}, a.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".gz", ".tgz", ".zip"}))
	d.Resize(fyne.NewSize(700, 500))
	d.Show()
}
