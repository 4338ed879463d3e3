package pkg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

// Limits bound what reading a package may cost, so that an archive bomb is refused
// before it fills memory or a disk.
type Limits struct {
	// MaxBytes is the most content all members may declare together.
	MaxBytes int64
	// MaxEntries is the most members an archive may have.
	MaxEntries int
}

// DefaultLimits hold any OMFLOW release we know of (a few hundred MB, a Python
// environment included) many times over.
var DefaultLimits = Limits{MaxBytes: 8 << 30, MaxEntries: 200_000}

const (
	maxManifest  = 16 << 20
	maxSignature = 4 << 10
)

// Options say how to open a package.
type Options struct {
	// Keys are the trusted public keys; none means BuiltinPublicKey.
	Keys []minisign.PublicKey
	// AllowUnsigned opens packages whose signature is missing or does not verify, and
	// legacy patches. The caller must show the user that it did (SPEC 4.2: in red).
	AllowUnsigned bool
	// Limits; zero fields take DefaultLimits.
	Limits Limits
	// Logf receives notes on what was read; nil discards them.
	Logf func(format string, args ...any)
	// Progress, when set, is told the bytes extracted so far and the total.
	Progress func(done, total int64)
	// HeadOnly makes Open read the manifest and its signature (the archive's first
	// members) and stop there, for a caller that extracts right after: Extract checks
	// every member as it writes it, so the payload is read once instead of twice.
	HeadOnly bool
}

func (o Options) limits() Limits {
	l := o.Limits
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits.MaxEntries
	}
	return l
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// SignatureState is what the manifest's signature says. The values are stable codes for
// logs and -json.
type SignatureState string

const (
	SigVerified SignatureState = "verified" // signed by a trusted key
	SigUnsigned SignatureState = "unsigned" // no signature (legacy patches too)
	SigInvalid  SignatureState = "invalid"  // a signature that does not verify
)

// SignatureError is a package refused for its signature.
type SignatureError struct {
	State SignatureState
	Err   error
}

func (e *SignatureError) Error() string { return e.Err.Error() }
func (e *SignatureError) Unwrap() error { return e.Err }

// Legacy describes a seed-style patch: a tarball holding patch.sh, its version in the
// file name (omflow_patch_1_2_0_0.tar.gz).
type Legacy struct {
	Version string
	// Script is patch.sh's path inside the archive (and inside the extraction folder).
	Script string
}

// Package is an opened, verified update package. Opening wrote nothing anywhere.
type Package struct {
	Path   string
	Format ArchiveFormat
	// Manifest is nil for a legacy patch.
	Manifest *Manifest
	Legacy   *Legacy
	// Signature is the state of the manifest's signature; SignatureErr says why it is not
	// verified, KeyID which key verified it.
	Signature    SignatureState
	SignatureErr error
	KeyID        string

	manifestRaw []byte
	opts        Options
}

// Version is the version the package installs.
func (p *Package) Version() string {
	if p.Legacy != nil {
		return p.Legacy.Version
	}
	return p.Manifest.Version
}

// member is what a walk saw of one archive member.
type member struct {
	typ  entryType
	blob Blob
	link string
}

// Open reads the package at file and checks everything that can be checked without an
// installation: archive safety, manifest, signature, payload sizes and hashes. It writes
// nothing. Errors are outcome.Unusable and name the package; a signature refusal also
// matches *SignatureError.
func Open(ctx context.Context, file string, opts Options) (*Package, error) {
	p, err := open(ctx, file, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("open package %q: %w", file, err)
		}
		return nil, outcome.Unusable(fmt.Errorf("open package %q: %w", file, err))
	}
	return p, nil
}

func open(ctx context.Context, file string, opts Options) (*Package, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	format, err := sniff(f)
	if err != nil {
		return nil, err
	}
	p := &Package{Path: file, Format: format, opts: opts}
	var (
		members = map[string]member{}
		order   []string
		exp     expectation
		sig     []byte
	)
	err = walkArchive(ctx, f, format, opts.limits(), func(e *entry) error {
		if exp != nil { // manifest first, as pack writes it: refuse early, before reading
			if err := exp.check(e); err != nil {
				return err
			}
		}
		m := member{typ: e.typ, link: e.link}
		switch {
		case e.name == ManifestName:
			b, err := readSmall(e, maxManifest)
			if err != nil {
				return err
			}
			p.manifestRaw = b
			if man, err := ParseManifest(b); err == nil && len(members) == 0 {
				exp = expect(man)
			}
		case e.name == SignatureName:
			var err error
			if sig, err = readSmall(e, maxSignature); err != nil {
				return err
			}
			if opts.HeadOnly && p.manifestRaw != nil {
				return errHeadRead
			}
		case e.typ == entryFile:
			h := sha256.New()
			n, err := io.Copy(h, e.body)
			if err != nil {
				return err
			}
			m.blob = Blob{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
		}
		members[e.name] = m
		order = append(order, e.name)
		return nil
	})
	headOnly := errors.Is(err, errHeadRead)
	if err != nil && !headOnly {
		return nil, err
	}
	if p.manifestRaw == nil {
		return p, p.openLegacy(members)
	}
	if p.Manifest, err = ParseManifest(p.manifestRaw); err != nil {
		return nil, err
	}
	p.checkSignature(sig)
	if p.Signature != SigVerified {
		opts.logf("package %s: signature %s: %v", file, p.Signature, p.SignatureErr)
		if !opts.AllowUnsigned {
			return nil, &SignatureError{State: p.Signature, Err: p.SignatureErr}
		}
	}
	if headOnly {
		return p, nil
	}
	exp = expect(p.Manifest)
	for _, name := range order {
		if err := exp.checkMember(name, members[name]); err != nil {
			return nil, err
		}
	}
	return p, exp.complete(members)
}

// errHeadRead ends a HeadOnly walk once the manifest and its signature are read.
var errHeadRead = errors.New("manifest and signature read")

func (p *Package) checkSignature(sig []byte) {
	if sig == nil {
		p.Signature, p.SignatureErr = SigUnsigned, fmt.Errorf("no %s: the package is not signed", SignatureName)
		return
	}
	keys := p.opts.Keys
	if len(keys) == 0 {
		keys = []minisign.PublicKey{BuiltinPublicKey()}
	}
	k, err := verify(keys, p.manifestRaw, sig)
	if err != nil {
		p.Signature, p.SignatureErr = SigInvalid, err
		return
	}
	p.Signature, p.KeyID = SigVerified, KeyID(k.ID())
}

// legacyName matches the seed's patch names: omflow_patch_1_2_0_0.tar.gz, and
// omflow_patch_1_1_6_4_upgrade3.tar.gz (a label, as in 1.1.6.4upgrade3).
var legacyName = regexp.MustCompile(`^omflow_patch_([0-9]+)_([0-9]+)_([0-9]+)_([0-9]+)(?:_?([A-Za-z]+[0-9]*))?\.(?:tar\.gz|tgz)$`)

// LegacyVersion reads the version from a seed-style patch file name.
func LegacyVersion(file string) (string, bool) {
	m := legacyName.FindStringSubmatch(filepath.Base(file))
	if m == nil {
		return "", false
	}
	v, err := version.Parse(strings.Join(m[1:5], ".") + m[5])
	if err != nil {
		return "", false
	}
	return v.String(), true
}

func (p *Package) openLegacy(members map[string]member) error {
	var scripts []string
	for name, m := range members {
		if path.Base(name) == "patch.sh" && m.typ == entryFile && strings.Count(name, "/") <= 1 {
			scripts = append(scripts, name)
		}
	}
	sort.Strings(scripts)
	switch {
	case len(scripts) == 0:
		return fmt.Errorf("no %s and no patch.sh: not an OMFLOW update package", ManifestName)
	case len(scripts) > 1:
		return fmt.Errorf("legacy patch with more than one patch.sh: %s", strings.Join(scripts, ", "))
	case p.Format != TarGz:
		return errors.New("legacy patches are .tar.gz files")
	}
	v, ok := LegacyVersion(p.Path)
	if !ok {
		return fmt.Errorf("legacy patch (it holds %s): the version must be in the file name, as in omflow_patch_1_2_0_0.tar.gz", scripts[0])
	}
	p.Legacy = &Legacy{Version: v, Script: scripts[0]}
	p.Signature = SigUnsigned
	p.SignatureErr = errors.New("a legacy patch (patch.sh) carries no signature")
	p.opts.logf("package %s: legacy patch %s, version %s from its name, unsigned", p.Path, p.Legacy.Script, v)
	if !p.opts.AllowUnsigned {
		return &SignatureError{State: SigUnsigned, Err: errors.New("a legacy patch (patch.sh) carries no signature: it is used only when unsigned packages are allowed")}
	}
	return nil
}

// expectation maps the archive members a manifest calls for (the folders above them
// too) to what they must be.
type expectation map[string]member

func expect(m *Manifest) expectation {
	x := expectation{}
	put := func(name string, e member) {
		x[name] = e
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			x[d] = member{typ: entryDir}
		}
	}
	for _, f := range m.Files {
		if f.Link != "" {
			put(payloadPrefix+f.Path, member{typ: entryLink, link: f.Link})
		} else {
			put(payloadPrefix+f.Path, member{typ: entryFile, blob: Blob{f.Size, f.SHA256}})
		}
		if f.Base != nil {
			put(basePrefix+f.Path, member{typ: entryFile, blob: *f.Base})
		}
	}
	return x
}

// check refuses, from its header alone, a member the manifest does not call for.
func (x expectation) check(e *entry) error {
	return x.checkMember(e.name, member{typ: e.typ, blob: Blob{Size: e.size}, link: e.link})
}

// checkMember refuses a member the manifest does not call for, or one of another type or
// size. A member with a hash must have the manifest's.
func (x expectation) checkMember(name string, got member) error {
	if name == ManifestName || name == SignatureName {
		if got.typ != entryFile {
			return fmt.Errorf("member %q: not a regular file", name)
		}
		return nil
	}
	want, ok := x[name]
	switch {
	case got.typ == entryDir && (!ok || want.typ != entryDir):
		return fmt.Errorf("member %q: a folder the manifest does not call for", name)
	case !ok:
		return fmt.Errorf("member %q: not listed in the manifest", name)
	case got.typ != want.typ:
		return fmt.Errorf("member %q: the manifest lists a %s", name, map[entryType]string{entryFile: "regular file", entryDir: "folder", entryLink: "link"}[want.typ])
	case got.typ == entryLink && got.link != want.link:
		return fmt.Errorf("member %q: link to %q, the manifest says %q", name, got.link, want.link)
	case got.typ == entryFile && got.blob.Size != want.blob.Size:
		return fmt.Errorf("member %q: %d bytes, the manifest says %d", name, got.blob.Size, want.blob.Size)
	case got.typ == entryFile && got.blob.SHA256 != "" && got.blob.SHA256 != want.blob.SHA256:
		return fmt.Errorf("member %q: SHA-256 %s, the manifest says %s: the payload was changed", name, got.blob.SHA256, want.blob.SHA256)
	}
	return nil
}

// complete refuses a package that lacks a member the manifest calls for.
func (x expectation) complete(members map[string]member) error {
	var missing []string
	for name, want := range x {
		if _, ok := members[name]; !ok && want.typ != entryDir {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("the manifest lists %s, the archive lacks it", strings.Join(missing, ", "))
	}
	return nil
}
