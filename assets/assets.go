// Package assets holds the files the programs embed: the CJK font (a subset of Noto Sans
// CJK TC, SIL OFL 1.1, made by scripts/make-font.sh; its license is
// fonts/NotoSansCJK-LICENSE.txt).
package assets

import _ "embed"

// CJKFontName is the embedded CJK font's file name.
const CJKFontName = "NotoSansCJKtc-Regular-subset.otf"

// CJKFont is a Noto Sans CJK TC Regular subset: CJK punctuation, kana, full-width forms,
// every CJK character of the locale files and about 7,000 common Hanzi and Kanji. It has
// no Latin on purpose: text falls back to the toolkit's own Latin font glyph by glyph.
//
//go:embed fonts/NotoSansCJKtc-Regular-subset.otf
var CJKFont []byte

// Icon is the wizard's window and desktop icon, 256x256 PNG (FyneApp.toml, the .desktop
// file and the Windows resources name the same file).
//
//go:embed icon.png
var Icon []byte
