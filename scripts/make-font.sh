#!/usr/bin/env bash
# Regenerates assets/fonts/NotoSansCJKtc-Regular-subset.otf, the CJK font the wizard
# ships so that Chinese and Japanese render on a machine with no CJK font installed.
#
# Source: Debian's fonts-noto-cjk (Noto Sans CJK TC Regular, SIL OFL 1.1), downloaded as
# a .deb and unpacked in a temporary folder: the machine's own fonts are not touched.
# Characters kept:
#   - every character of the locale files (i18n/locales/*.toml) that Fyne's own font
#     (Noto Sans, Latin) lacks;
#   - common Hanzi/Kanji, from Unihan (Debian's unicode-data): GB 2312 level 1 (3,755
#     Simplified), Big5 level 1 (5,401 Traditional, Taiwan's common characters) and the
#     Joyo kanji (2,136 Japanese), so that license texts mostly render;
#   - CJK punctuation, kana, full-width forms.
#   - spaces and default-ignorable characters (see below).
# Latin is left out on purpose: Fyne falls back glyph by glyph to its own Noto Sans
# (with real bold and italic), which matches the rest of the UI.
#
# Needs: apt-get install fonttools unicode-data (and network access to Debian's archive).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/assets/fonts"
face=3 # index in NotoSansCJK-Regular.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK

for tool in pyftsubset dpkg-deb apt-get go; do
	command -v "$tool" >/dev/null || { echo "make-font: $tool is missing (apt-get install fonttools)" >&2; exit 1; }
done
[ -r /usr/share/unicode/Unihan_OtherMappings.txt.bz2 ] || {
	echo "make-font: Unihan is missing (apt-get install unicode-data)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download fonts-noto-cjk >/dev/null && dpkg-deb -x fonts-noto-cjk_*.deb x)
ttc="$work/x/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

fyne_font="$(cd "$here" && go list -m -f '{{.Dir}}' fyne.io/fyne/v2)/theme/font/NotoSans-Regular.ttf"

# Debian's fonttools lives in the system Python, which may not be the first python3.
py=python3
/usr/bin/python3 -c 'import fontTools' 2>/dev/null && py=/usr/bin/python3

"$py" - "$here/i18n/locales" "$fyne_font" "$work/chars.txt" <<'EOF'
import bz2, glob, os, sys
from fontTools.ttLib import TTFont

locales, fyne_font, out = sys.argv[1:]

def unihan(field):
    values = {}
    with bz2.open("/usr/share/unicode/Unihan_OtherMappings.txt.bz2", "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cp, key, value = line.rstrip("\n").split("\t", 2)
            if key == field:
                values[chr(int(cp[2:], 16))] = value
    return values

gb2312_level1 = {c for c, v in unihan("kGB0").items() if 1601 <= int(v) <= 5589}
big5_level1 = {c for c, v in unihan("kBigFive").items() if 0xA440 <= int(v, 16) <= 0xC67E}
joyo = set(unihan("kJoyoKanji"))

ranges = [(0x3000, 0x303F), (0x3040, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF00, 0xFFEF)]
blocks = {chr(c) for lo, hi in ranges for c in range(lo, hi + 1)}

latin = TTFont(fyne_font).getBestCmap()
used = set()
for path in sorted(glob.glob(os.path.join(locales, "*.toml"))):
    with open(path, encoding="utf-8") as f:
        used |= set(f.read())
used = {c for c in used if ord(c) > 0x7F and ord(c) not in latin}

chars = sorted(gb2312_level1 | big5_level1 | joyo | blocks | used)
with open(out, "w", encoding="utf-8") as f:
    f.write("".join(chars))
print(f"make-font: {len(chars)} characters ({len(used)} from the locale files)", file=sys.stderr)
EOF

mkdir -p "$out"
# Spaces and default-ignorable characters are kept although Fyne's font has them: the
# shaper keeps them in the face of the text around them, so a space after a CJK
# character is looked up in this font (and drawn as a missing glyph if absent).
pyftsubset "$ttc" --font-number="$face" --text-file="$work/chars.txt" --no-hinting \
	--unicodes='U+0020,U+00A0,U+00AD,U+2000-200F,U+2028-202F,U+205F-2064,U+FEFF' \
	--output-file="$out/NotoSansCJKtc-Regular-subset.otf"
cp "$work/x/usr/share/doc/fonts-noto-cjk/copyright" "$out/NotoSansCJK-LICENSE.txt"
ls -l "$out"
