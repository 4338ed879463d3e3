package pkg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/upgrade/version"
)

// Names inside a package archive.
const (
	ManifestName  = "manifest.json"
	SignatureName = ManifestName + ".minisig"
	// The keys document (upgrade/trust), when the package carries one.
	KeysName          = trust.DocumentName
	KeysSignatureName = KeysName + trust.SignatureExt
	KeysCrossName     = KeysName + trust.CrossExt
	payloadPrefix     = "payload/"
	basePrefix        = "base/"
)

// FormatVersion is the manifest format this code writes and reads.
const FormatVersion = 1

// Product is the only product a manifest may name.
const Product = "OMFLOW"

// Kind says what an update does with a payload file (SPEC 4.8).
type Kind string

const (
	// KindFile is replaced by the package's copy.
	KindFile Kind = "file"
	// KindConfig may have been edited by the administrator: replaced, kept or merged.
	KindConfig Kind = "config"
	// KindData is never replaced on an existing installation.
	KindData Kind = "data"
)

// DefaultConfig and DefaultData are the root-relative paths that are of kind config and
// data in every package (pack adds its -config and -data lists to them). OMFLOW's Linux
// layout keeps the Django project in server/, the Windows layout in omflow/. Apache's
// django.conf is a config file wherever the payload carries it (see DefaultKind).
var (
	DefaultConfig = []string{
		"server/omflow/settings.py",
		"omflow/omflow/settings.py",
		"Apache24/conf/httpd.conf",
	}
	DefaultData = []string{
		"server/db.omflow",
		"omflow/db.omflow",
	}
)

// DefaultKind is the kind a payload path has when no list names it.
func DefaultKind(p string) Kind {
	switch {
	case containsPath(DefaultData, p):
		return KindData
	case containsPath(DefaultConfig, p), path.Base(p) == "django.conf":
		return KindConfig
	}
	return KindFile
}

func containsPath(list []string, p string) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

// Perm is a file's permission bits; JSON spells it as an octal string ("0755"), as
// administrators read them.
type Perm fs.FileMode

func (p Perm) MarshalJSON() ([]byte, error) {
	return json.Marshal(fmt.Sprintf("%04o", uint32(p)))
}

func (p *Perm) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("mode: %w", err)
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("mode %q: want octal permission bits 0000 to 0777", s)
	}
	*p = Perm(n)
	return nil
}

// Blob is the size and SHA-256 (lower-case hex) of some content.
type Blob struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// File is one payload file. Path is relative to the installation root, with slashes.
// A symbolic link has Link (its target, relative, inside the root) and no content.
type File struct {
	Path   string `json:"path"`
	Kind   Kind   `json:"kind"`
	Mode   Perm   `json:"mode"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	Link   string `json:"link,omitempty"`
	// Base is the previous release's copy of a config file, stored in the package
	// (pack -base) so that a three-way merge works on an installation whose own record
	// of the previous release is missing.
	Base *Blob `json:"base,omitempty"`
}

// Requires is what the updated OMFLOW needs of its environment. Empty means unchanged.
type Requires struct {
	Python string `json:"python,omitempty"`
	Django string `json:"django,omitempty"`
}

// Manifest describes an update package. The package carries it as manifest.json with a
// minisign signature beside it; see doc.go for the format.
type Manifest struct {
	Format  int    `json:"format"`
	Product string `json:"product"`
	Version string `json:"version"`
	// From is the feature version (a.b.c) the update upgrades from; empty when the
	// version rules alone decide.
	From     string            `json:"from,omitempty"`
	Requires Requires          `json:"requires"`
	Licenses map[string]string `json:"licenses,omitempty"`
	Files    []File            `json:"files"`
	Delete   []string          `json:"delete,omitempty"`
	// Schema is the payload's SQLite data file (the release's db.omflow) that is the
	// schema reference: apply brings the site's database to its tables, columns and
	// indexes (SPEC 4.9). Empty when the payload carries no database.
	Schema string `json:"schema,omitempty"`
}

// ParseManifest decodes and checks a manifest. It accepts nothing it does not know:
// unknown fields, another format, another product, unsafe or duplicate paths.
func ParseManifest(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if dec.More() {
		return nil, errors.New("manifest: trailing data after the JSON object")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Marshal encodes m as pack writes it: indented, files sorted by path.
func (m *Manifest) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

var (
	pyVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}$`)
)

// Validate checks m for everything that does not need the archive.
func (m *Manifest) Validate() error {
	if m.Format != FormatVersion {
		return fmt.Errorf("manifest: format %d, this program reads format %d", m.Format, FormatVersion)
	}
	if m.Product != Product {
		return fmt.Errorf("manifest: product %q, want %q", m.Product, Product)
	}
	if _, err := version.Parse(m.Version); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if m.From != "" {
		if _, err := version.ParseLine(m.From); err != nil {
			return fmt.Errorf("manifest: from: %w", err)
		}
	}
	for name, v := range map[string]string{"python": m.Requires.Python, "django": m.Requires.Django} {
		if v != "" && !pyVersion.MatchString(v) {
			return fmt.Errorf("manifest: requires %s %q: want a version such as 3.11", name, v)
		}
	}
	for tag, text := range m.Licenses {
		if _, err := licenseTag(tag); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if !utf8.ValidString(text) {
			return fmt.Errorf("manifest: license %q is not UTF-8 text", tag)
		}
	}
	seen := map[string]string{} // case-folded path -> path
	claim := func(p, what string) error {
		if err := CheckPath(p); err != nil {
			return fmt.Errorf("manifest: %s: %w", what, err)
		}
		k := strings.ToLower(p)
		if q, ok := seen[k]; ok {
			return fmt.Errorf("manifest: %s %q: listed twice (as %q; names that differ only in case collide on Windows)", what, p, q)
		}
		seen[k] = p
		return nil
	}
	for i := range m.Files {
		f := &m.Files[i]
		if err := claim(f.Path, "file"); err != nil {
			return err
		}
		if containsPath(DefaultData, f.Path) && f.Kind != KindData {
			// Kind "file" would replace the site's database.
			return fmt.Errorf("manifest: file %q: the site's database must be of kind data, not %q", f.Path, f.Kind)
		}
		if err := f.validate(); err != nil {
			return fmt.Errorf("manifest: file %q: %w", f.Path, err)
		}
	}
	for _, p := range m.Delete {
		if err := claim(p, "delete"); err != nil {
			return err
		}
		if containsPath(DefaultData, p) {
			return fmt.Errorf("manifest: delete %q: the site's database is never deleted by an update", p)
		}
	}
	if m.Schema != "" {
		if f, ok := m.File(m.Schema); !ok || f.Kind != KindData || f.Link != "" {
			return fmt.Errorf("manifest: schema %q: want a data file of the payload", m.Schema)
		}
	}
	// Links resolved as the file system would, through each other; no file below one.
	return m.CheckLinks(NoLinks)
}

func (f *File) validate() error {
	switch f.Kind {
	case KindFile, KindConfig, KindData:
	default:
		return fmt.Errorf("kind %q: want file, config or data", f.Kind)
	}
	if f.Base != nil {
		if f.Kind != KindConfig {
			return errors.New("only config files carry a base copy")
		}
		if err := f.Base.validate(); err != nil {
			return fmt.Errorf("base: %w", err)
		}
	}
	if f.Link != "" {
		if f.Size != 0 || f.SHA256 != "" || f.Kind != KindFile {
			return errors.New("a link has no size, no sha256 and kind file")
		}
		return checkLink(f.Path, f.Link)
	}
	return Blob{f.Size, f.SHA256}.validate()
}

func (b Blob) validate() error {
	if b.Size < 0 {
		return fmt.Errorf("size %d", b.Size)
	}
	if !isSHA256Hex(b.SHA256) {
		return fmt.Errorf("sha256 %q: want 64 lower-case hex digits", b.SHA256)
	}
	return nil
}

// isSHA256Hex tells a SHA-256 in 64 lower-case hex digits (checked for every file of a
// manifest: by hand, a regular expression cost a fifth of reading a large one).
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// CheckPath accepts a root-relative, slash-separated, clean path that stays inside the
// root and names the same file on Linux and Windows.
func CheckPath(p string) error {
	switch {
	case p == "" || p == ".":
		return errors.New("empty path")
	case !utf8.ValidString(p):
		return fmt.Errorf("path %q is not UTF-8", p)
	case strings.ContainsAny(p, "\\\x00:"):
		return fmt.Errorf("path %q: backslash, colon or NUL", p)
	case path.IsAbs(p):
		return fmt.Errorf("path %q is absolute", p)
	case path.Clean(p) != p:
		return fmt.Errorf("path %q is not clean", p)
	case p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("path %q leaves the root", p)
	}
	for _, part := range strings.Split(p, "/") {
		if strings.TrimRight(part, ". ") != part {
			// Windows drops trailing dots and spaces: "a." and "a" would be one file.
			return fmt.Errorf("path %q: a name ends with a dot or a space", p)
		}
		if err := windowsName(part); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
	}
	return nil
}

// Windows' own rules for a name, checked on every platform so that a package is refused
// when it is read, not half-way through an extraction on Windows.
var (
	// CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and the superscript digits Windows also takes)
	// name devices, with any extension: "aux.py" opens the AUX device.
	reservedName = regexp.MustCompile(`(?i)^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$`)
	// An 8.3 short name (PROGRA~1) may alias another file of the folder.
	shortName = regexp.MustCompile(`^[^.~]{1,6}~[0-9]+(\.[^.]{0,3})?$`)
)

func windowsName(name string) error {
	for _, r := range name {
		if r < 0x20 || strings.ContainsRune(`<>"|?*`, r) {
			return fmt.Errorf("the name %q has a character Windows forbids in file names (<>\"|?* or a control character)", name)
		}
	}
	// The expressions are tried only on names that could match: every path of a
	// package passes here, and most names start otherwise and have no tilde.
	switch {
	case mayBeDevice(name) && reservedName.MatchString(name):
		return fmt.Errorf("the name %q is a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9)", name)
	case strings.Contains(name, "~") && shortName.MatchString(name):
		return fmt.Errorf("the name %q has the form of a Windows 8.3 short name, which may stand for another file", name)
	}
	return nil
}

// mayBeDevice says whether name starts as a device name does (no other letter folds to
// these under the expression's (?i)).
func mayBeDevice(name string) bool {
	if len(name) < 3 {
		return false
	}
	switch strings.ToLower(name[:3]) {
	case "con", "prn", "aux", "nul", "com", "lpt":
		return true
	}
	return false
}

// checkLink accepts a relative link target that, seen from the link, stays inside the
// root.
func checkLink(p, target string) error {
	if target == "" || path.IsAbs(target) || strings.ContainsAny(target, "\\\x00:") {
		return fmt.Errorf("link target %q: want a relative path", target)
	}
	if t := path.Join(path.Dir(p), target); t == ".." || strings.HasPrefix(t, "../") || t == "." {
		return fmt.Errorf("link target %q points outside", target)
	}
	return nil
}

func licenseTag(s string) (language.Tag, error) {
	t, err := language.Parse(s)
	if err != nil || t.String() != s {
		return language.Und, fmt.Errorf("license language %q: want a BCP 47 tag such as en, zh-Hant, ja", s)
	}
	return t, nil
}

// License returns the license text for the language the user chose (a BCP 47 tag such
// as "zh-Hant" or "ja-JP") and the tag of the text returned: the closest the package has,
// else English, else the first by tag. ok is false when the package has no license.
func (m *Manifest) License(lang string) (text, tag string, ok bool) {
	if len(m.Licenses) == 0 {
		return "", "", false
	}
	tags := make([]string, 0, len(m.Licenses))
	for t := range m.Licenses {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	// English first: the matcher falls back to its first tag.
	sort.SliceStable(tags, func(i, j int) bool { return tags[i] == "en" && tags[j] != "en" })
	supported := make([]language.Tag, len(tags))
	for i, t := range tags {
		supported[i] = language.Make(t)
	}
	want, err := language.Parse(lang)
	if err != nil {
		return m.Licenses[tags[0]], tags[0], true
	}
	_, i, conf := language.NewMatcher(supported).Match(want)
	if conf == language.No {
		i = 0
	}
	return m.Licenses[tags[i]], tags[i], true
}

// TouchesMigrations reports whether the update adds, changes or deletes anything in a
// Django migrations/ folder, so that manage.py migrate must run (SPEC 4.8).
func (m *Manifest) TouchesMigrations() bool {
	in := func(p string) bool { return strings.Contains("/"+p, "/migrations/") }
	for _, f := range m.Files {
		if in(f.Path) {
			return true
		}
	}
	for _, p := range m.Delete {
		if in(p) {
			return true
		}
	}
	return false
}

// PayloadSize is the sum of the payload's file sizes (what extraction writes, base copies
// included).
func (m *Manifest) PayloadSize() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
		if f.Base != nil {
			n += f.Base.Size
		}
	}
	return n
}

// File returns the payload entry for a root-relative path.
func (m *Manifest) File(p string) (File, bool) {
	for _, f := range m.Files {
		if f.Path == p {
			return f, true
		}
	}
	return File{}, false
}
