// Package screenshot renders Fyne content to PNG files with Fyne's software painter: no
// display, no GL. It replaces the current Fyne app with an in-memory one, so use it in a
// program or test of its own (docs/screenshots), not inside a running GUI.
package screenshot

import (
	"fmt"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// Options say how to render.
type Options struct {
	Size  fyne.Size  // the window's size in Fyne units
	Scale float32    // pixels per unit; 0 means 1
	Theme fyne.Theme // nil: Fyne's default theme
	Dark  bool       // the dark variant; the light one otherwise
}

// Shooter is an in-memory window to put content in and capture.
type Shooter struct {
	win fyne.Window
	opt Options
}

// New makes the in-memory app and its window.
func New(opt Options) *Shooter {
	a := test.NewApp()
	th := opt.Theme
	if th == nil {
		th = theme.DefaultTheme()
	}
	variant := theme.VariantLight
	if opt.Dark {
		variant = theme.VariantDark
	}
	a.Settings().SetTheme(&variantTheme{Theme: th, variant: variant})
	w := test.NewWindow(nil)
	if opt.Scale > 0 {
		w.Canvas().(test.WindowlessCanvas).SetScale(opt.Scale)
	}
	w.Resize(opt.Size)
	return &Shooter{win: w, opt: opt}
}

// Window is the window to build content for (wizard.New needs it for its dialogs).
func (s *Shooter) Window() fyne.Window { return s.win }

// Save captures the window, dialogs included, as a PNG at path (folders are made).
func (s *Shooter) Save(path string) error {
	s.win.Resize(s.opt.Size)
	img := s.win.Canvas().Capture()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("screenshot %q: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("screenshot %q: %w", path, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("screenshot %q: %w", path, err)
	}
	return f.Close()
}

// variantTheme pins the light or dark variant whatever the test app's settings say.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t *variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}
