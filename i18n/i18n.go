// Package i18n holds the wizard's translations: English, Traditional Chinese (Taiwan),
// Simplified Chinese and Japanese, as TOML message files embedded in the program. A
// *Localizer for one language is made from the Bundle and passed down to whatever shows
// text; there is no global current language.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var locales embed.FS

// Language is one language the wizard speaks.
type Language struct {
	Code string       // the locale file's name: "en", "zh-Hant", "zh-Hans", "ja"
	Tag  language.Tag // the same as a tag
	Name string       // the language in its own name: "English", "繁體中文", ...
}

// Codes of the languages, as in the locale files' names.
const (
	English            = "en"
	TraditionalChinese = "zh-Hant"
	SimplifiedChinese  = "zh-Hans"
	Japanese           = "ja"
)

var languages = []Language{
	{English, language.English, "English"},
	{TraditionalChinese, language.TraditionalChinese, "繁體中文"},
	{SimplifiedChinese, language.SimplifiedChinese, "简体中文"},
	{Japanese, language.Japanese, "日本語"},
}

// Languages lists the languages, English first, each named in itself.
func Languages() []Language { return append([]Language(nil), languages...) }

// LanguageOf is the language with the given code, or English for an unknown code.
func LanguageOf(code string) Language {
	for _, l := range languages {
		if l.Code == code {
			return l
		}
	}
	return languages[0]
}

// Bundle holds every message of every language.
type Bundle struct {
	b *goi18n.Bundle
}

// Load reads the embedded locale files.
func Load() (*Bundle, error) {
	return load(locales)
}

// MustLoad is Load for callers that treat a broken embedded file as a build error (the
// tests make sure it is not).
func MustLoad() *Bundle {
	b, err := Load()
	if err != nil {
		panic(err)
	}
	return b
}

func load(fsys fs.FS) (*Bundle, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, l := range languages {
		name := path.Join("locales", l.Code+".toml")
		if _, err := b.LoadMessageFileFS(fsys, name); err != nil {
			return nil, fmt.Errorf("load locale file %q: %w", name, err)
		}
	}
	return &Bundle{b: b}, nil
}

// Localizer speaks one language, falling back to English for a message it lacks.
type Localizer struct {
	lang Language
	l    *goi18n.Localizer
}

// Localizer makes a Localizer for the language code (see Languages); an unknown code
// gets English.
func (b *Bundle) Localizer(code string) *Localizer {
	lang := LanguageOf(code)
	return &Localizer{lang: lang, l: goi18n.NewLocalizer(b.b, lang.Code, English)}
}

// Language is the language this Localizer speaks.
func (l *Localizer) Language() Language { return l.lang }

// T is the message id filled with data ({{.Name}} placeholders). A message missing from
// every file shows as its id, so the gap is visible rather than blank.
func (l *Localizer) T(id string, data map[string]any) string {
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// Plural is the message id in the plural form for count, filled with data plus
// {{.Count}}.
func (l *Localizer) Plural(id string, count int, data map[string]any) string {
	d := map[string]any{"Count": count}
	for k, v := range data {
		d[k] = v
	}
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
	if err != nil {
		return id
	}
	return s
}

// Detect picks the language of the OS locale: on Linux LC_ALL, then LC_MESSAGES, then
// LANG (the POSIX order); where none is set (Windows), the user's preferred UI
// language. It returns a language code.
func Detect() string {
	return DetectEnv(os.Getenv, systemLocale)
}

// DetectEnv is Detect with the environment and the system's own locale supplied.
func DetectEnv(getenv func(string) string, system func() string) string {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			return Match(v)
		}
	}
	if system != nil {
		if v := system(); v != "" {
			return Match(v)
		}
	}
	return English
}

var matcher = language.NewMatcher([]language.Tag{
	language.English, language.TraditionalChinese, language.SimplifiedChinese, language.Japanese,
})

// Match maps a locale name ("zh_TW.UTF-8", "ja-JP", "zh-Hant-HK") to a language code:
// Chinese of Taiwan, Hong Kong and Macau to Traditional, of China and Singapore (and
// plain "zh") to Simplified, Japanese to Japanese, anything else to English.
func Match(locale string) string {
	locale, _, _ = strings.Cut(locale, ".") // zh_TW.UTF-8
	locale, _, _ = strings.Cut(locale, "@") // ja_JP@euro
	locale = strings.ReplaceAll(locale, "_", "-")
	if locale == "" || locale == "C" || locale == "POSIX" {
		return English
	}
	tag, err := language.Parse(locale)
	if err != nil {
		return English
	}
	_, i, conf := matcher.Match(tag)
	if conf == language.No {
		return English
	}
	return languages[i].Code
}

// Files is the embedded locale files, locales/CODE.toml (font coverage tests read them).
func Files() fs.FS { return locales }
