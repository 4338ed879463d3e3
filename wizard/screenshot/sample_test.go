package screenshot_test

// A sample wizard in every language, rendered to PNG: the demonstration of the
// screenshot helper and of CJK rendering with the shipped font. The sample uses the
// project's real messages (i18n) and font (assets); the wizard package itself uses
// neither. SCREENSHOT_DIR=DIR keeps the pictures (scripts/screenshot-sample.sh).

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"omflow-upgrade/assets"
	"omflow-upgrade/i18n"
	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/wizard"
	"omflow-upgrade/wizard/screenshot"
)

func cjkTheme() fyne.Theme {
	return wizard.NewFontTheme(nil, fyne.NewStaticResource(assets.CJKFontName, assets.CJKFont))
}

func labels(l *i18n.Localizer) wizard.Labels {
	return wizard.Labels{
		Back: l.T("wizard.back", nil), Next: l.T("wizard.next", nil), Finish: l.T("wizard.finish", nil),
		Cancel: l.T("wizard.cancel", nil), Yes: l.T("wizard.yes", nil), No: l.T("wizard.no", nil),
		Close:     l.T("wizard.close", nil),
		QuitTitle: l.T("wizard.quitTitle", nil), QuitMessage: l.T("wizard.quitMessage", nil),
		StopTitle: l.T("wizard.stopTitle", nil), StopMessage: l.T("wizard.stopMessage", nil),
	}
}

// sampleWizard builds language, license, check, update and restart steps in language
// code, moved to the step named by show, and returns the wizard.
func sampleWizard(t *testing.T, s *screenshot.Shooter, l *i18n.Localizer) (*wizard.Wizard, []*wizard.Step, *wizard.Work) {
	var names []string
	for _, lang := range i18n.Languages() {
		names = append(names, lang.Name)
	}
	langs := widget.NewRadioGroup(names, nil)
	langs.SetSelected(l.Language().Name)
	language := &wizard.Step{Title: l.T("language.title", nil), NextEnabled: true, Content: container.NewVBox(
		widget.NewLabel(l.T("language.prompt", nil)), langs)}

	agree := widget.NewCheck(l.T("license.agree", nil), nil)
	agree.SetChecked(true)
	licenseText := widget.NewLabel("Copyright (C) OMFLOW.\n" + l.T("license.englishOnly",
		map[string]any{"Language": l.Language().Name}))
	licenseText.Wrapping = fyne.TextWrapWord
	license := &wizard.Step{Title: l.T("license.title", nil), NextEnabled: true, Content: container.NewBorder(
		widget.NewLabel(l.T("license.prompt", map[string]any{"Version": "1.2.0.0"})), agree, nil, nil,
		container.NewVScroll(licenseText))}

	checks := wizard.NewChecklist()
	ok := func(id string, data map[string]any) {
		checks.Set(id, l.T("check.name."+id, nil), wizard.Passed, l.T("check.ok."+id, data))
	}
	ok("installation", map[string]any{"Version": "1.1.6.1", "Root": "/opt/omflow"})
	ok("signature", nil)
	checks.Set("version", l.T("check.name.version", nil), wizard.Failed,
		l.T("check.refused.needsFirstRelease", map[string]any{"Update": "1.2.0.1", "Requires": "1.2.0.0"}))
	ok("diskSpace", map[string]any{"Free": "12 GB", "Needed": "850 MB"})
	checks.Set("signatureWarn", l.T("check.name.signature", nil), wizard.Warning, l.T("check.signature.invalid", nil))
	check := &wizard.Step{Title: l.T("check.title", nil), NextLabel: l.T("check.next", nil), Content: container.NewBorder(
		widget.NewLabel(l.T("check.intro", nil)), widget.NewLabel(l.Plural("check.failedCount", 1, nil)), nil, nil,
		container.NewVScroll(checks))}

	work := wizard.NewWork(0)
	update := &wizard.Step{Title: l.T("update.title", nil), NoBack: true, Content: work}
	python := &wizard.Step{Title: l.T("python.title", nil), Skip: func() bool { return true }}
	restart := &wizard.Step{Title: l.T("restart.title", nil), NextEnabled: true,
		Content: widget.NewLabel(l.T("restart.healthy", map[string]any{"Version": "1.2.0.0"}))}

	steps := []*wizard.Step{language, license, check, update, python, restart}
	wz := wizard.New(s.Window(), labels(l), steps...)
	s.Window().SetContent(wz)
	return wz, steps, work
}

func TestSampleScreenshots(t *testing.T) {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	bundle := i18n.MustLoad()
	for _, lang := range i18n.Languages() {
		l := bundle.Localizer(lang.Code)
		shoot := func(s *screenshot.Shooter, name string) {
			path := filepath.Join(dir, lang.Code, name+".png")
			require.NoError(t, s.Save(path))
			img := readPNG(t, path)
			assert.Equal(t, image.Rect(0, 0, 800, 560), img.Bounds(), path)
			assert.Greater(t, colours(img), 8, "%s looks blank", path)
		}

		s := screenshot.New(screenshot.Options{Size: fyne.NewSize(800, 560), Theme: cjkTheme()})
		wz, _, work := sampleWizard(t, s, l)
		shoot(s, "1-language")
		wz.Next()
		shoot(s, "2-license")
		wz.Next()
		shoot(s, "3-check")
		wz.Current().SetNextEnabled(true)
		wz.Next()
		logged, release := make(chan struct{}), make(chan struct{})
		defer close(release)
		wz.Run(work, func(ctx context.Context, r wizard.Reporter) error {
			r.Status(l.T("update.step.apply", nil))
			r.Progress(0.6)
			for _, id := range []string{"preflight", "backup", "stop", "apply"} {
				r.Logf("%s: %s", l.T("update.step."+id, nil), "OK")
			}
			r.Logf("rename server/omflow/syscom -> server/omflow/syscom.omflow-old")
			close(logged)
			<-release
			return nil
		}, nil)
		<-logged
		work.Flush()
		shoot(s, "4-update")
		wz.ShowError(wizard.ErrorReport{
			Title:    l.T("error.title", nil),
			Happened: l.T("error.happened", map[string]any{"Error": "exit status 1"}),
			Kept:     l.T("error.keptRolledBack", map[string]any{"Version": "1.1.6.1"}),
			Log:      l.T("error.log", map[string]any{"Path": "/opt/omflow/logs/upgrade-20261126.log"}),
		})
		shoot(s, "5-error")
	}
}

// fontDirs are where Fyne (go-text's fontscan) looks for the machine's fonts on Linux.
var fontDirs = []string{"/usr/share/fonts", "/usr/local/share/fonts", "/usr/X11R6/lib/X11/fonts",
	"/usr/share/texmf/fonts/opentype/public"}

// Two different CJK characters must draw differently: tofu boxes (no glyph) all look the
// same. The test runs itself again in a mount namespace where the machine's font folders
// are empty, as on a server or desktop with no CJK font; there, the default theme must
// draw tofu (or the check proves nothing) and the shipped font real glyphs.
func TestCJKRendersWithNoFontInstalled(t *testing.T) {
	if os.Getenv("WIZARD_FONTS_HIDDEN") == "" {
		testneed.Root(t, "hiding the machine's fonts takes unshare --mount")
		if err := exec.Command("unshare", "--mount", "true").Run(); err != nil {
			testneed.Missing(t, "unshare --mount (util-linux), to hide the machine's fonts: %v", err)
		}
		script := ""
		for _, d := range fontDirs {
			script += fmt.Sprintf("if [ -d %[1]s ]; then mount -t tmpfs none %[1]s || exit 1; fi; ", d)
		}
		cmd := exec.Command("unshare", "--mount", "sh", "-c", script+`exec "$@"`, "sh",
			os.Args[0], "-test.run=^TestCJKRendersWithNoFontInstalled$", "-test.v")
		home := t.TempDir()
		cmd.Env = append(os.Environ(), "WIZARD_FONTS_HIDDEN=1", "HOME="+home, "XDG_CACHE_HOME="+home,
			"XDG_DATA_HOME="+home, "XDG_DATA_DIRS="+home, "XDG_CONFIG_HOME="+home)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "--- PASS: TestCJKRendersWithNoFontInstalled", "%s", out)
		return
	}
	for _, d := range fontDirs {
		entries, _ := os.ReadDir(d)
		require.Empty(t, entries, "%s is not hidden", d)
	}
	for _, pair := range [][2]string{{"語", "言"}, {"语", "简"}, {"日", "本"}, {"の", "ア"}} {
		assert.Equal(t, renderText(t, pair[0], nil), renderText(t, pair[1], nil),
			"%s and %s differ without the shipped font: the machine's fonts are not hidden", pair[0], pair[1])
		assert.NotEqual(t, renderText(t, pair[0], cjkTheme()), renderText(t, pair[1], cjkTheme()),
			"%s and %s render the same with the shipped font: tofu", pair[0], pair[1])
	}
	// Screenshots made here show what a machine with no CJK font shows.
	if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
		TestSampleScreenshots(t)
	}
}

func renderText(t *testing.T, text string, th fyne.Theme) []byte {
	s := screenshot.New(screenshot.Options{Size: fyne.NewSize(60, 40), Theme: th})
	s.Window().SetContent(widget.NewLabel(text))
	path := filepath.Join(t.TempDir(), "t.png")
	require.NoError(t, s.Save(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func readPNG(t *testing.T, path string) image.Image {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	return img
}

// colours counts distinct colours, up to a small cap.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) > 64 {
				return len(seen)
			}
		}
	}
	return len(seen)
}
