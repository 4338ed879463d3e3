package wizard

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// fontTheme is a theme whose text font is a given font, with the base theme for the rest.
type fontTheme struct {
	base fyne.Theme
	font fyne.Resource
}

// NewFontTheme wraps base (nil: Fyne's default theme) so that text is drawn with font in
// every style but symbols. Fyne looks a glyph up in the theme's font first and then in its
// own font of the same style, so font need only hold what Fyne's font lacks (CJK, say):
// Latin still comes, bold and italic included, from Fyne's font, and mixed text renders.
func NewFontTheme(base fyne.Theme, font fyne.Resource) fyne.Theme {
	if base == nil {
		base = theme.DefaultTheme()
	}
	return &fontTheme{base: base, font: font}
}

func (t *fontTheme) Font(style fyne.TextStyle) fyne.Resource {
	if style.Symbol || t.font == nil {
		return t.base.Font(style)
	}
	return t.font
}

func (t *fontTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.base.Color(n, v)
}

func (t *fontTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base.Icon(n) }

func (t *fontTheme) Size(n fyne.ThemeSizeName) float32 { return t.base.Size(n) }
