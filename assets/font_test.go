package assets

import (
	"bytes"
	"io/fs"
	"testing"
	"unicode"

	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"omflow-upgrade/i18n"
)

func parse(t *testing.T, data []byte) *font.Face {
	t.Helper()
	f, err := font.ParseTTF(bytes.NewReader(data))
	require.NoError(t, err)
	return f
}

// Every character of every locale file must be drawable from the fonts Fyne will try, in
// its order: our CJK font (the theme's), then Fyne's own font of the style. Regular and
// bold both, since titles are bold.
func TestFontsCoverEveryLocaleCharacter(t *testing.T) {
	cjk := parse(t, CJKFont)
	for _, fallback := range []*font.Face{
		parse(t, theme.DefaultTextFont().Content()),
		parse(t, theme.DefaultTextBoldFont().Content()),
	} {
		files, err := fs.Glob(i18n.Files(), "locales/*.toml")
		require.NoError(t, err)
		require.Len(t, files, len(i18n.Languages()))
		for _, name := range files {
			data, err := fs.ReadFile(i18n.Files(), name)
			require.NoError(t, err)
			missing := map[rune]bool{}
			for _, r := range string(data) {
				if unicode.IsControl(r) || missing[r] {
					continue
				}
				if _, ok := cjk.NominalGlyph(r); ok {
					continue
				}
				if _, ok := fallback.NominalGlyph(r); !ok {
					missing[r] = true
				}
			}
			var list []string
			for r := range missing {
				list = append(list, string(r))
			}
			assert.Empty(t, list, "%s: characters no font draws (run scripts/make-font.sh)", name)
		}
	}
}

// Text the locale files do not hold (a license, an error from the OS) renders when it
// keeps to common characters: a sample of each language.
func TestFontCoversCommonText(t *testing.T) {
	cjk := parse(t, CJKFont)
	for _, sample := range []string{
		"本軟體依「現狀」提供，不附帶任何明示或默示之擔保，包括但不限於適售性及特定目的適用性。",   // Traditional
		"本软件按“原样”提供，不附带任何明示或默示的担保，包括但不限于适销性和特定用途适用性。",   // Simplified
		"本ソフトウェアは「現状のまま」提供され、明示または黙示を問わず、いかなる保証もありません。", // Japanese
	} {
		for _, r := range sample {
			if r < 0x2E80 { // Latin punctuation comes from Fyne's font
				continue
			}
			_, ok := cjk.NominalGlyph(r)
			assert.True(t, ok, "%q (U+%04X) in %s", string(r), r, sample)
		}
	}
}

// The CJK font holds no Latin letters, so Latin keeps Fyne's own font and its bold. It
// does hold the spaces: the shaper keeps a space in the face of the text before it, so
// "在 /opt" looks the space up in the CJK font (a missing one is drawn as U+FFFD).
func TestFontLeavesLatinToFyneButKeepsSpaces(t *testing.T) {
	cjk := parse(t, CJKFont)
	for _, r := range "AZaz09.,:" {
		_, ok := cjk.NominalGlyph(r)
		assert.False(t, ok, "%q", r)
	}
	for _, r := range " \u00a0\u3000" {
		_, ok := cjk.NominalGlyph(r)
		assert.True(t, ok, "U+%04X", r)
	}
}
