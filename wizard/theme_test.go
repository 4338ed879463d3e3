package wizard

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"github.com/stretchr/testify/assert"
)

func TestFontThemeDrawsTextWithItsFont(t *testing.T) {
	font := fyne.NewStaticResource("cjk.otf", []byte("font"))
	th := NewFontTheme(nil, font)
	for _, style := range []fyne.TextStyle{{}, {Bold: true}, {Italic: true}, {Monospace: true}} {
		assert.Equal(t, font, th.Font(style), "%+v", style)
	}
	assert.Equal(t, theme.DefaultTheme().Font(fyne.TextStyle{Symbol: true}), th.Font(fyne.TextStyle{Symbol: true}))
	assert.Equal(t, theme.DefaultTheme().Size(theme.SizeNameText), th.Size(theme.SizeNameText))
	assert.Equal(t, theme.DefaultTheme().Color(theme.ColorNamePrimary, theme.VariantLight),
		th.Color(theme.ColorNamePrimary, theme.VariantLight))
	assert.Equal(t, theme.DefaultTheme().Font(fyne.TextStyle{}), NewFontTheme(nil, nil).Font(fyne.TextStyle{}))
}
