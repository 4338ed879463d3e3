package pkg

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"aead.dev/minisign"
	"github.com/klauspost/compress/flate"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/upgrade/version"
)

// PackOptions say what Pack builds (SPEC 5, pack).
type PackOptions struct {
	// SrcDir holds the payload laid out relative to the installation root.
	SrcDir string
	// Out is the package to write: .tar.gz (or .tgz) or .zip.
	Out string
	Key minisign.PrivateKey
	// Keys, when set, is the keys document the package carries (pack -keys): it must
	// list Key, current.
	Keys *trust.Signed
	// Version is a.b.c.d[label]; From the feature version a.b.c it upgrades from, if any.
	Version, From string
	// Python and Django the update requires, if it changes them ("3.11", "4.2").
	Python, Django string
	// LicenseDir holds one text file per language, named by its BCP 47 tag: en.txt,
	// zh-Hant.txt, zh-Hans.txt, ja.txt (.md too).
	LicenseDir string
	// Delete lists root-relative paths the update removes.
	Delete []string
	// Config and Data list root-relative paths of those kinds, on top of DefaultConfig
	// and DefaultData.
	Config, Data []string
	// BaseDir is the previous release laid out as SrcDir, read only for the base copies
	// of config files.
	BaseDir string
	Logf    func(format string, args ...any)
}

// packTime is every member's modification time: the same input gives the same package.
var packTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Pack builds and signs a package. It writes Out only when everything succeeded (through
// a temporary file beside it); bad input is outcome.Unusable.
func Pack(ctx context.Context, o PackOptions) (*Manifest, error) {
	m, sources, err := o.manifest(ctx)
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("pack %q: %w", o.SrcDir, err))
	}
	raw, err := m.Marshal()
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("pack %q: %w", o.SrcDir, err))
	}
	if err := o.checkKeys(); err != nil {
		return nil, outcome.Unusable(fmt.Errorf("pack %q: %w", o.SrcDir, err))
	}
	sig := sign(o.Key, raw, m.Version)
	if err := writePackage(ctx, o.Out, raw, sig, o.Keys, m, sources); err != nil {
		return nil, fmt.Errorf("pack %q into %q: %w", o.SrcDir, o.Out, err)
	}
	logf(o.Logf, "packed %s %s: %d files, %d to delete, signed by key %s", Product, m.Version, len(m.Files), len(m.Delete), KeyID(o.Key.ID()))
	return m, nil
}

// checkKeys refuses to pack with a keys document that would not let the package in.
func (o PackOptions) checkKeys() error {
	if o.Keys == nil {
		return nil
	}
	d := o.Keys.Doc
	k, _, ok := d.Find(o.Key.ID())
	switch {
	case d.Revoked(o.Key.ID()):
		return fmt.Errorf("keys document serial %d revokes the signing key %s", d.Serial, KeyID(o.Key.ID()))
	case !ok:
		return fmt.Errorf("keys document serial %d does not list the signing key %s: add it with keys rotate -add", d.Serial, KeyID(o.Key.ID()))
	case !time.Now().Before(k.NotAfterTime()):
		return fmt.Errorf("the signing key %s expired on %s (keys document serial %d): renew it with keys rotate -expires", k.ID, k.NotAfter, d.Serial)
	}
	return nil
}

func logf(f func(string, ...any), format string, args ...any) {
	if f != nil {
		f(format, args...)
	}
}

// manifest reads the source folders and returns the manifest and, per archive member
// name, the file it comes from.
func (o PackOptions) manifest(ctx context.Context) (*Manifest, map[string]string, error) {
	if _, err := version.Parse(o.Version); err != nil {
		return nil, nil, err
	}
	if o.From != "" {
		if _, err := version.ParseLine(o.From); err != nil {
			return nil, nil, fmt.Errorf("from: %w", err)
		}
	}
	for name, v := range map[string]string{"python": o.Python, "django": o.Django} {
		if v != "" && !pyVersion.MatchString(v) {
			return nil, nil, fmt.Errorf("requires %s %q: want a version such as 3.11", name, v)
		}
	}
	if o.Key.ID() == 0 {
		return nil, nil, errors.New("no secret key to sign with")
	}
	if o.Out == "" || outFormat(o.Out) == "" {
		return nil, nil, fmt.Errorf("output %q: want a .tar.gz, .tgz or .zip name", o.Out)
	}
	if st, err := os.Stat(filepath.Dir(o.Out)); err != nil || !st.IsDir() {
		return nil, nil, fmt.Errorf("output %q: its folder does not exist", o.Out)
	}
	if src, err := filepath.Abs(o.SrcDir); err == nil {
		if out, err := filepath.Abs(o.Out); err == nil && strings.HasPrefix(out, src+string(filepath.Separator)) {
			return nil, nil, fmt.Errorf("output %q is inside the source folder %q", o.Out, o.SrcDir)
		}
	}
	m := &Manifest{
		Format: FormatVersion, Product: Product, Version: o.Version, From: o.From,
		Requires: Requires{Python: o.Python, Django: o.Django},
		Delete:   o.Delete,
	}
	kinds := map[string]Kind{}
	for _, l := range []struct {
		kind  Kind
		paths []string
	}{{KindConfig, o.Config}, {KindData, o.Data}} {
		for _, p := range l.paths {
			if err := CheckPath(p); err != nil {
				return nil, nil, fmt.Errorf("%s list: %w", l.kind, err)
			}
			if k, ok := kinds[p]; ok && k != l.kind {
				return nil, nil, fmt.Errorf("%q is listed as both %s and %s", p, k, l.kind)
			}
			kinds[p] = l.kind
		}
	}
	for _, d := range o.Delete {
		if kinds[d] == KindData {
			return nil, nil, fmt.Errorf("delete list: %q is a data file, which an update never deletes", d)
		}
	}
	sources := map[string]string{}
	err := filepath.WalkDir(o.SrcDir, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(o.SrcDir, file)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if err := CheckPath(rel); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := File{Path: rel, Kind: KindFile, Mode: Perm(info.Mode().Perm())}
		switch {
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			if f.Link, err = os.Readlink(file); err != nil {
				return err
			}
			f.Link = filepath.ToSlash(f.Link)
			if err := checkLink(rel, f.Link); err != nil {
				return fmt.Errorf("%q: %w", rel, err)
			}
			f.Mode = 0o777
		case d.Type().IsRegular():
			if f.Kind = kinds[rel]; f.Kind == "" {
				f.Kind = DefaultKind(rel)
			}
			if f.Size, f.SHA256, err = HashFile(file); err != nil {
				return err
			}
			sources[payloadPrefix+rel] = file
		default:
			return fmt.Errorf("%q: %s is neither a file, a folder nor a link", rel, d.Type())
		}
		m.Files = append(m.Files, f)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("source folder: %w", err)
	}
	if len(m.Files) == 0 && len(m.Delete) == 0 {
		return nil, nil, errors.New("source folder: no files and nothing to delete: an empty update")
	}
	for p, k := range kinds {
		if f, ok := m.File(p); !ok || f.Kind != k {
			logf(o.Logf, "note: %s path %q is not a file in the payload", k, p)
		}
	}
	if m.Schema, err = schemaReference(m, sources); err != nil {
		return nil, nil, err
	}
	if o.BaseDir != "" {
		for i := range m.Files {
			f := &m.Files[i]
			if f.Kind != KindConfig {
				continue
			}
			file := filepath.Join(o.BaseDir, filepath.FromSlash(f.Path))
			if st, err := os.Lstat(file); errors.Is(err, fs.ErrNotExist) {
				logf(o.Logf, "note: config file %q has no base copy in %s", f.Path, o.BaseDir)
				continue
			} else if err != nil {
				return nil, nil, fmt.Errorf("base: %w", err)
			} else if !st.Mode().IsRegular() {
				return nil, nil, fmt.Errorf("base %q: not a regular file", file)
			}
			size, sum, err := HashFile(file)
			if err != nil {
				return nil, nil, fmt.Errorf("base: %w", err)
			}
			f.Base = &Blob{Size: size, SHA256: sum}
			sources[basePrefix+f.Path] = file
		}
	}
	if o.LicenseDir != "" {
		if m.Licenses, err = readLicenses(o.LicenseDir); err != nil {
			return nil, nil, err
		}
	}
	return m, sources, m.Validate()
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// schemaReference picks the payload's SQLite data file that is the release's schema: the
// one at a default data path (db.omflow) first, else the only other one. Two candidates
// and no default is an error: the release engineer names one with -data.
func schemaReference(m *Manifest, sources map[string]string) (string, error) {
	var found []string
	for _, f := range m.Files {
		if f.Kind != KindData || f.Link != "" || f.Size < int64(len(sqliteMagic)) {
			continue
		}
		head := make([]byte, len(sqliteMagic))
		file, err := os.Open(sources[payloadPrefix+f.Path])
		if err != nil {
			return "", err
		}
		_, err = io.ReadFull(file, head)
		file.Close()
		if err != nil {
			return "", err
		}
		if string(head) != sqliteMagic {
			continue
		}
		if containsPath(DefaultData, f.Path) {
			return f.Path, nil
		}
		found = append(found, f.Path)
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("the payload has several SQLite data files (%s): which one is the release's database? Keep only it in the -data list", strings.Join(found, ", "))
}

// HashFile returns a file's size and SHA-256 (hex).
func HashFile(file string) (int64, string, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

func readLicenses(dir string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("license folder: %w", err)
	}
	out := map[string]string{}
	for _, e := range ents {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".txt" && ext != ".md") {
			return nil, fmt.Errorf("license folder %q: %q: want files named by language, such as en.txt or zh-Hant.txt", dir, e.Name())
		}
		tag, err := licenseTag(strings.TrimSuffix(e.Name(), ext))
		if err != nil {
			return nil, fmt.Errorf("license folder %q: %q: %w", dir, e.Name(), err)
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("license folder: %w", err)
		}
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("license %q is not UTF-8 text", e.Name())
		}
		if _, dup := out[tag.String()]; dup {
			return nil, fmt.Errorf("license folder %q: two files for %s", dir, tag)
		}
		out[tag.String()] = string(b)
	}
	if _, ok := out["en"]; len(out) > 0 && !ok {
		return nil, fmt.Errorf("license folder %q: no en.txt (English is shown when a language has no text)", dir)
	}
	return out, nil
}

func outFormat(out string) ArchiveFormat {
	switch {
	case strings.HasSuffix(out, ".tar.gz"), strings.HasSuffix(out, ".tgz"):
		return TarGz
	case strings.HasSuffix(out, ".zip"):
		return Zip
	}
	return ""
}

// archiveWriter is what writePackage needs of tar and zip.
type archiveWriter interface {
	add(name string, mode fs.FileMode, size int64, link string) (io.Writer, error)
	Close() error
}

func writePackage(ctx context.Context, out string, manifest, sig []byte, keys *trust.Signed, m *Manifest, sources map[string]string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriter(tmp)
	var w archiveWriter
	var gz *blockWriter
	if outFormat(out) == Zip {
		w = zipWriter{zip.NewWriter(bw)}
	} else {
		gz = newBlockWriter(bw, flate.DefaultCompression)
		defer gz.Close() // after an error too: its goroutines end
		w = tarWriter{tar.NewWriter(gz)}
	}
	put := func(name string, mode fs.FileMode, b []byte) error {
		wr, err := w.add(name, mode, int64(len(b)), "")
		if err == nil {
			_, err = wr.Write(b)
		}
		return err
	}
	// manifest first: a reader refuses unlisted or oversized members as it meets them
	if err := put(ManifestName, 0o644, manifest); err != nil {
		return err
	}
	if err := put(SignatureName, 0o644, sig); err != nil {
		return err
	}
	if keys != nil {
		for _, k := range []struct {
			name string
			b    []byte
		}{{KeysName, keys.Raw}, {KeysSignatureName, keys.Sig}, {KeysCrossName, keys.Cross}} {
			if k.b == nil {
				continue
			}
			if err := put(k.name, 0o644, k.b); err != nil {
				return err
			}
		}
	}
	type item struct {
		name string
		f    File
		base bool
	}
	var items []item
	for _, f := range m.Files {
		items = append(items, item{payloadPrefix + f.Path, f, false})
		if f.Base != nil {
			items = append(items, item{basePrefix + f.Path, f, true})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		size, mode := it.f.Size, fs.FileMode(it.f.Mode)
		if it.base {
			size, mode = it.f.Base.Size, 0o644
		}
		if it.f.Link != "" {
			if _, err := w.add(it.name, 0o777, 0, it.f.Link); err != nil {
				return err
			}
			continue
		}
		if err := copyInto(w, it.name, mode, size, sources[it.name]); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// copyInto adds a source file, refusing one that changed since it was hashed.
func copyInto(w archiveWriter, name string, mode fs.FileMode, size int64, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	wr, err := w.add(name, mode, size, "")
	if err != nil {
		return err
	}
	n, err := io.Copy(wr, io.LimitReader(f, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("%q changed while packing", src)
	}
	return err
}

type tarWriter struct{ *tar.Writer }

func (t tarWriter) add(name string, mode fs.FileMode, size int64, link string) (io.Writer, error) {
	h := &tar.Header{Name: name, Mode: int64(mode.Perm()), Size: size, ModTime: packTime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if link != "" {
		h.Typeflag, h.Linkname = tar.TypeSymlink, link
	}
	return t.Writer, t.WriteHeader(h)
}

type zipWriter struct{ *zip.Writer }

func (z zipWriter) add(name string, mode fs.FileMode, size int64, link string) (io.Writer, error) {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: packTime}
	h.SetMode(mode.Perm())
	if link != "" {
		h.Method = zip.Store
		h.SetMode(fs.ModeSymlink | 0o777)
		w, err := z.CreateHeader(h)
		if err == nil {
			_, err = io.WriteString(w, link)
		}
		return w, err
	}
	return z.CreateHeader(h)
}

// ReadList reads a list file of root-relative paths, one a line; blank lines and lines
// starting with # are skipped, backslashes become slashes (lists written on Windows).
func ReadList(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("list %q: %w", file, err))
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.ReplaceAll(line, "\\", "/")
		if err := CheckPath(p); err != nil {
			return nil, outcome.Unusable(fmt.Errorf("list %q line %d: %w", file, i+1, err))
		}
		out = append(out, p)
	}
	return out, nil
}
