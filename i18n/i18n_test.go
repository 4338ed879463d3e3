package i18n

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// messages parses one locale file: message id -> every text of it (plural forms).
func messages(t *testing.T, fsys fs.FS, code string) map[string][]string {
	t.Helper()
	name := "locales/" + code + ".toml"
	raw, err := fs.ReadFile(fsys, name)
	require.NoError(t, err)
	f, err := goi18n.ParseMessageFileBytes(raw, name, map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal})
	require.NoError(t, err, name)
	out := map[string][]string{}
	for _, m := range f.Messages {
		for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
			if s != "" {
				out[m.ID] = append(out[m.ID], s)
			}
		}
	}
	return out
}

// keyDiff lists ids English has and the other lacks, and the other's extras.
func keyDiff(en, other map[string][]string) (missing, extra []string) {
	for id := range en {
		if _, ok := other[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range other {
		if _, ok := en[id]; !ok {
			extra = append(extra, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders is the sorted set of {{.Name}} used by any form of a message.
func placeholders(texts []string) []string {
	var out []string
	for _, s := range texts {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestEveryLocaleHasExactlyEnglishsIDs(t *testing.T) {
	en := messages(t, locales, English)
	require.Greater(t, len(en), 100)
	for _, l := range Languages()[1:] {
		missing, extra := keyDiff(en, messages(t, locales, l.Code))
		assert.Empty(t, missing, "%s lacks these ids of English", l.Code)
		assert.Empty(t, extra, "%s has ids English has not", l.Code)
	}
}

func TestEveryLocaleUsesEnglishsPlaceholders(t *testing.T) {
	en := messages(t, locales, English)
	for _, l := range Languages()[1:] {
		for id, texts := range messages(t, locales, l.Code) {
			if en[id] == nil {
				continue // reported by the id test
			}
			assert.Equal(t, placeholders(en[id]), placeholders(texts), "%s: %s", l.Code, id)
		}
	}
}

// The checks themselves must catch a broken file, or they prove nothing.
func TestParityChecksCatchBrokenFiles(t *testing.T) {
	broken := fstest.MapFS{
		"locales/en.toml": {Data: []byte("[a]\nx = \"X {{.Root}}\"\ny = \"Y\"\n")},
		"locales/ja.toml": {Data: []byte("[a]\nx = \"X {{.Path}}\"\nz = \"Z\"\n")},
	}
	en, ja := messages(t, broken, "en"), messages(t, broken, "ja")
	missing, extra := keyDiff(en, ja)
	assert.Equal(t, []string{"a.y"}, missing)
	assert.Equal(t, []string{"a.z"}, extra)
	assert.NotEqual(t, placeholders(en["a.x"]), placeholders(ja["a.x"]))
}

func TestEveryMessageRendersInEveryLanguage(t *testing.T) {
	b, err := Load()
	require.NoError(t, err)
	en := messages(t, locales, English)
	for _, lang := range Languages() {
		loc := b.Localizer(lang.Code)
		for id, texts := range en {
			data := map[string]any{}
			for _, p := range placeholders(texts) {
				data[p] = "<" + p + ">"
			}
			got := loc.T(id, data)
			if len(texts) > 1 {
				got = loc.Plural(id, 2, data)
			}
			assert.NotEqual(t, id, got, "%s: %s does not render", lang.Code, id)
			assert.NotContains(t, got, "<no value>", "%s: %s", lang.Code, id)
			for _, p := range placeholders(texts) {
				if p != "Count" {
					assert.Contains(t, got, "<"+p+">", "%s: %s drops {{.%s}}", lang.Code, id, p)
				}
			}
		}
	}
}

func TestLocalizer(t *testing.T) {
	b := MustLoad()
	en, zh, ja := b.Localizer(English), b.Localizer(TraditionalChinese), b.Localizer(Japanese)
	assert.Equal(t, "Next", en.T("wizard.next", nil))
	assert.Equal(t, "下一步", zh.T("wizard.next", nil))
	assert.Equal(t, "次へ", ja.T("wizard.next", nil))
	req := map[string]any{"Update": "1.2.0.1", "Requires": "1.2.0.0"}
	assert.Contains(t, en.T("check.refused.needsFirstRelease", req), "Install 1.2.0.0 first")
	assert.Contains(t, zh.T("check.refused.needsFirstRelease", req), "請先安裝 1.2.0.0")

	assert.Equal(t, "1 package is missing:", en.Plural("python.missingCount", 1, nil))
	assert.Equal(t, "3 packages are missing:", en.Plural("python.missingCount", 3, nil))
	assert.Equal(t, "3 個のパッケージが不足しています：", ja.Plural("python.missingCount", 3, nil))

	assert.Equal(t, "no.such.id", en.T("no.such.id", nil), "a missing id shows as itself")
	assert.Equal(t, English, b.Localizer("fr").Language().Code, "unknown languages get English")
}

func TestLanguagesAreNamedInThemselves(t *testing.T) {
	var names []string
	for _, l := range Languages() {
		names = append(names, l.Name)
		assert.Equal(t, l.Code, l.Tag.String())
	}
	assert.Equal(t, []string{"English", "繁體中文", "简体中文", "日本語"}, names)
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		env    map[string]string
		system string
		want   string
	}{
		{map[string]string{"LANG": "zh_TW.UTF-8"}, "", TraditionalChinese},
		{map[string]string{"LANG": "zh_HK.UTF-8"}, "", TraditionalChinese},
		{map[string]string{"LANG": "zh_MO"}, "", TraditionalChinese},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, "", SimplifiedChinese},
		{map[string]string{"LANG": "zh_SG.GB2312"}, "", SimplifiedChinese},
		{map[string]string{"LANG": "zh"}, "", SimplifiedChinese},
		{map[string]string{"LANG": "ja_JP.UTF-8"}, "", Japanese},
		{map[string]string{"LANG": "ja_JP.eucJP@euro"}, "", Japanese},
		{map[string]string{"LANG": "en_US.UTF-8"}, "", English},
		{map[string]string{"LANG": "de_DE.UTF-8"}, "", English},
		{map[string]string{"LANG": "ko_KR.UTF-8"}, "", English},
		{map[string]string{"LANG": "C"}, "", English},
		{map[string]string{"LANG": "POSIX"}, "", English},
		{map[string]string{"LANG": "not a locale!"}, "", English},
		{map[string]string{}, "", English},
		// POSIX order: LC_ALL beats LC_MESSAGES beats LANG.
		{map[string]string{"LC_ALL": "ja_JP.UTF-8", "LC_MESSAGES": "zh_TW", "LANG": "en_US"}, "", Japanese},
		{map[string]string{"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "ja_JP.UTF-8"}, "", TraditionalChinese},
		// No environment (Windows): the system's UI language, as BCP 47.
		{map[string]string{}, "zh-TW", TraditionalChinese},
		{map[string]string{}, "zh-Hant-HK", TraditionalChinese},
		{map[string]string{}, "zh-CN", SimplifiedChinese},
		{map[string]string{}, "ja-JP", Japanese},
		{map[string]string{"LANG": "en_GB.UTF-8"}, "ja-JP", English},
	} {
		t.Run(fmt.Sprint(tc.env, tc.system), func(t *testing.T) {
			got := DetectEnv(func(k string) string { return tc.env[k] }, func() string { return tc.system })
			assert.Equal(t, tc.want, got)
		})
	}
}

// IDs say where and what: screen first, camelCase words, no spaces.
func TestMessageIDsAreWellFormed(t *testing.T) {
	screens := []string{"app", "wizard", "language", "license", "check", "root", "update", "python", "restart", "recover", "rollback", "error"}
	idForm := regexp.MustCompile(`^[a-z]+(\.[a-zA-Z0-9]+)+$`)
	for id := range messages(t, locales, English) {
		assert.Regexp(t, idForm, id)
		screen, _, _ := strings.Cut(id, ".")
		assert.Contains(t, screens, screen, id)
	}
}
