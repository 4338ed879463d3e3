package pkg

import (
	"bytes"
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
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/trust"
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
	// Keys are the release keys trusted directly, for a package that carries no keys
	// document (the transition, see DirectSignatures); none means BuiltinPublicKey.
	Keys []minisign.PublicKey
	// Roots are the root keys a keys document must lead to while Kept is nil; none
	// means trust.BuiltinRoots.
	Roots []minisign.PublicKey
	// Kept is the installation's newest keys document, nil when it keeps none.
	Kept *trust.Signed
	// Now is the time release keys' expiry is read against; zero is the clock's.
	Now time.Time
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
	// SigRefused: signed by a release key the keys document revokes (Trust.Refusal).
	SigRefused SignatureState = "refused"
)

// DirectSignatures says whether a package signed directly by a release key, with no
// keys document, is still taken (with a warning) while the installation keeps none:
// the transition of README's release engineers' section. The next major version
// sets it false (DirectSignaturesEnd).
const DirectSignatures = true

// DirectSignaturesEnd is the version of omflow-upgrade that refuses packages without a
// keys document.
const DirectSignaturesEnd = "2.0"

// SignatureError is a package refused for its signature.
type SignatureError struct {
	State SignatureState
	Err   error
}

func (e *SignatureError) Error() string { return e.Err.Error() }
func (e *SignatureError) Unwrap() error { return e.Err }

// Legacy describes a seed-style patch: a tarball holding patch.sh, its version in its own
// version.bin or in the file name (omflow_patch_1_2_0_0.tar.gz).
type Legacy struct {
	// Version is what the patch installs: what gating compares and version.bin records.
	Version string
	// Label is what follows the version in the file name after a '_' or '-' (upgrade3 in
	// omflow_patch_1_1_6_4_upgrade3.tar.gz): shown to the administrator, never compared
	// or written.
	Label string
	// VersionFile is the member Version was read from; empty when it came from the name.
	VersionFile string
	// Script is patch.sh's path inside the archive (and inside the extraction folder).
	Script string
	// Shebang is patch.sh's #! line, empty when it has none; Interpreter and
	// InterpreterArg are that line as the kernel splits it.
	Shebang, Interpreter, InterpreterArg string
}

// Display is the version as the administrator sees it: 1.1.6.4 (upgrade3).
func (l *Legacy) Display() string {
	if l.Label == "" {
		return l.Version
	}
	return l.Version + " (" + l.Label + ")"
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
	// Trust is what the keys documents (the package's, the installation's) say of it;
	// Trust.Doc is nil for a package signed directly, the old way. A Trust.Refusal
	// leaves Open successful: the check reports it (exit 3).
	Trust *trust.Verdict

	manifestRaw []byte
	opts        Options
	configs     *ConfigCopies // the config members, when Open read the whole package
}

// Version is the version the package installs.
func (p *Package) Version() string {
	if p.Legacy != nil {
		return p.Legacy.Version
	}
	return p.Manifest.Version
}

// ManifestBytes is the manifest as signed (nil for a legacy patch).
func (p *Package) ManifestBytes() []byte { return p.manifestRaw }

// member is what a walk saw of one archive member.
type member struct {
	typ  entryType
	blob Blob
	link string
	// head is the start of a member a legacy patch is read from (legacyHead).
	head []byte
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
		members  = map[string]member{}
		order    []string
		exp      expectation
		sig      []byte
		keys     = map[string][]byte{}
		parsed   *Manifest // the manifest, once read
		parseErr error
		keep     map[string]Blob // config members kept as they pass (keptConfigs)
		configs  = newConfigCopies()
	)
	err = walkArchive(ctx, f, format, opts.limits(), func(e *entry) error {
		if opts.HeadOnly && p.manifestRaw != nil && sig != nil && !headMember(e.name) {
			return errHeadRead
		}
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
			if len(members) == 0 { // parsed once, here, when it comes first as pack puts it
				if parsed, parseErr = ParseManifest(b); parseErr == nil {
					exp = expect(parsed)
					keep = keptConfigs(parsed)
				}
			}
		case e.name == SignatureName:
			var err error
			if sig, err = readSmall(e, maxSignature); err != nil {
				return err
			}
		case e.name == KeysName || e.name == KeysSignatureName || e.name == KeysCrossName:
			max := int64(maxSignature)
			if e.name == KeysName {
				max = trust.MaxDocument
			}
			b, err := readSmall(e, max)
			if err != nil {
				return err
			}
			keys[e.name] = b
		case e.typ == entryFile:
			h := sha256.New()
			var w io.Writer = h
			var head *prefix
			if n := legacyHead(e.name); n > 0 {
				head = &prefix{max: n}
				w = io.MultiWriter(h, head)
			}
			var config *bytes.Buffer
			if _, ok := keep[e.name]; ok {
				config = new(bytes.Buffer)
				w = io.MultiWriter(w, config)
			}
			n, err := e.copyTo(w)
			if err != nil {
				return err
			}
			if config != nil {
				configs.add(e.name, config.Bytes())
			}
			m.blob = Blob{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
			if head != nil {
				m.head = head.b
			}
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
	if parsed == nil && parseErr == nil {
		parsed, parseErr = ParseManifest(p.manifestRaw)
	}
	if parseErr != nil {
		return nil, parseErr
	}
	p.Manifest = parsed
	p.checkTrust(sig, keys)
	if p.Signature != SigVerified && p.Signature != SigRefused {
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
	if err := exp.complete(members); err != nil {
		return nil, err
	}
	if keep != nil { // every member checked against the manifest: so are these copies
		p.configs = configs
	}
	return p, nil
}

// errHeadRead ends a HeadOnly walk once the manifest and its signature are read.
var errHeadRead = errors.New("manifest and signature read")

// headMember says whether a member is read before the payload: the manifest, its
// signature and the keys document.
func headMember(name string) bool {
	switch name {
	case ManifestName, SignatureName, KeysName, KeysSignatureName, KeysCrossName:
		return true
	}
	return false
}

// checkTrust verifies the manifest's signature: through the keys documents when the
// package or the installation has one, else directly with a release key.
func (p *Package) checkTrust(sig []byte, keys map[string][]byte) {
	if sig == nil {
		p.Signature, p.SignatureErr = SigUnsigned, fmt.Errorf("no %s: the package is not signed", SignatureName)
		return
	}
	var carried *trust.Signed
	if raw, ok := keys[KeysName]; ok || len(keys) > 0 {
		var err error
		if !ok {
			err = fmt.Errorf("%s without %s", strings.Join(sortedKeys(keys), ", "), KeysName)
		} else if carried, err = trust.ParseSigned(raw, keys[KeysSignatureName], keys[KeysCrossName]); err != nil {
			err = fmt.Errorf("%s: %w", KeysName, err)
		}
		if err != nil {
			p.Signature, p.SignatureErr = SigInvalid, err
			return
		}
	}
	in := trust.Input{Roots: p.opts.Roots, Kept: p.opts.Kept, Carried: carried, Now: p.opts.Now}
	if len(in.Roots) == 0 {
		in.Roots = trust.BuiltinRoots()
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	v, err := trust.Evaluate(in, trust.Package{Manifest: p.manifestRaw, Signature: sig, Version: p.Manifest.Version,
		Hash: func() (string, error) {
			_, sum, err := HashFile(p.Path)
			return sum, err
		}})
	if err != nil {
		p.Signature, p.SignatureErr = SigInvalid, err
		return
	}
	p.Trust = v
	if v.Doc != nil {
		p.KeyID = v.KeyID
		switch {
		case !v.Verified:
			p.Signature, p.SignatureErr = SigRefused, v.Refusal
		default:
			p.Signature = SigVerified
		}
		return
	}
	if !DirectSignatures {
		p.Signature, p.SignatureErr = SigInvalid, fmt.Errorf("the package carries no %s: packages signed directly by a release key are no longer taken", KeysName)
		return
	}
	p.checkSignature(sig)
}

func sortedKeys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkSignature verifies a package signed directly by a release key, the old way.
func (p *Package) checkSignature(sig []byte) {
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

// legacyName matches the seed's patch names: the version's four numbers, then what
// follows them. A hotfix label attached to the fourth number (omflow_patch_1_1_6_3fix3,
// as OMFLOW's version.bin writes 1.1.6.3fix3) is part of the version (SPEC 4.1); a label
// after a '_' or '-' (omflow_patch_1_1_6_4_upgrade3, _upgrade3 or -upgrade3) only names
// the patch for the administrator: it is neither compared nor written to version.bin.
var legacyName = regexp.MustCompile(`^omflow_patch_([0-9]+)_([0-9]+)_([0-9]+)_([0-9]+)([A-Za-z]+[0-9]*)?(?:[_-]([A-Za-z0-9][A-Za-z0-9._-]*))?\.(?:tar\.gz|tgz)$`)

// LegacyName reads a seed-style patch file name: the version, and the display label
// that follows it (omflow_patch_1_1_6_4_upgrade3.tar.gz: 1.1.6.4 and upgrade3).
func LegacyName(file string) (ver, label string, ok bool) {
	m := legacyName.FindStringSubmatch(filepath.Base(file))
	if m == nil {
		return "", "", false
	}
	v, err := version.Parse(strings.Join(m[1:5], ".") + m[5])
	if err != nil {
		return "", "", false
	}
	return v.String(), m[6], true
}

// LegacyVersion reads the version from a seed-style patch file name, without the display
// label.
func LegacyVersion(file string) (string, bool) {
	v, _, ok := LegacyName(file)
	return v, ok
}

// legacyVersionFiles are where a patch carries OMFLOW's version.bin (the Linux and the
// Windows layout), at the top or one folder down as patch.sh is.
var legacyVersionFiles = []string{"server/omflow/syscom/version.bin", "omflow/syscom/version.bin"}

const (
	// shebangMax is how much of a script Linux reads for its #! line (BINPRM_BUF_SIZE).
	shebangMax = 256
	// maxLegacyVersionFile bounds a version.bin read into memory (OMFLOW's has two lines).
	maxLegacyVersionFile = 4 << 10
)

// legacyHead is how many bytes of a member Open keeps for openLegacy: patch.sh's #! line
// and a version.bin, wherever a patch may hold them; 0 for any other member.
func legacyHead(name string) int {
	if legacyScript(name) {
		return shebangMax
	}
	if legacyVersionFile(name) {
		return maxLegacyVersionFile + 1 // one more: a larger file is refused, not cut
	}
	return 0
}

// legacyScript says whether a member is a patch.sh where the seed's patches hold it: at
// the top or one folder down.
func legacyScript(name string) bool {
	return path.Base(name) == "patch.sh" && strings.Count(name, "/") <= 1
}

// legacyVersionFile says whether a member is a version.bin where a patch may hold one.
func legacyVersionFile(name string) bool {
	for _, f := range legacyVersionFiles {
		if dir, ok := strings.CutSuffix(name, f); ok && (dir == "" || strings.Count(dir, "/") == 1 && strings.HasSuffix(dir, "/")) {
			return true
		}
	}
	return false
}

// prefix keeps the first max bytes written to it and discards the rest.
type prefix struct {
	b   []byte
	max int
}

func (p *prefix) Write(b []byte) (int, error) {
	if n := min(len(b), p.max-len(p.b)); n > 0 {
		p.b = append(p.b, b[:n]...)
	}
	return len(b), nil
}

// parseShebang splits a script's #! line as Linux does (fs/binfmt_script.c): within the
// first 256 bytes, the interpreter runs to the first space or tab, and the rest of the
// line, its outer spaces and tabs trimmed, is one argument however many words it has.
// Unlike the kernel it drops a CR before the LF, so that a patch.sh saved on Windows
// runs. line is empty when the script has no #! line.
func parseShebang(head []byte) (line, interp, arg string) {
	if !bytes.HasPrefix(head, []byte("#!")) {
		return "", "", ""
	}
	head = head[:min(len(head), shebangMax)]
	l, _, _ := bytes.Cut(head, []byte("\n"))
	line = strings.TrimRight(string(l), " \t\r")
	rest := strings.TrimLeft(line[2:], " \t")
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		return line, rest[:i], strings.TrimLeft(rest[i:], " \t")
	}
	return line, rest, ""
}

// legacyVersion reads the version.bin members of a legacy patch; found is false when it
// carries none. Two that disagree are refused.
func legacyVersion(members map[string]member) (ver version.Version, file string, found bool, err error) {
	var names []string
	for name, m := range members {
		if m.typ == entryFile && legacyVersionFile(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		m := members[name]
		if m.blob.Size > maxLegacyVersionFile {
			return ver, "", false, fmt.Errorf("member %q: %d bytes, too large for a version file", name, m.blob.Size)
		}
		v, err := install.ParseVersionFile(m.head)
		if err != nil {
			return ver, "", false, fmt.Errorf("member %q: %w", name, err)
		}
		switch {
		case !found:
			ver, file, found = v, name, true
		case v != ver:
			return ver, "", false, fmt.Errorf("members %q and %q disagree on the version: %s and %s", file, name, ver, v)
		}
	}
	return ver, file, found, nil
}

func (p *Package) openLegacy(members map[string]member) error {
	var scripts []string
	for name, m := range members {
		if m.typ == entryFile && legacyScript(name) {
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
	l := &Legacy{Script: scripts[0]}
	l.Shebang, l.Interpreter, l.InterpreterArg = parseShebang(members[l.Script].head)
	named, label, fromName := LegacyName(p.Path)
	v, file, fromFile, err := legacyVersion(members)
	switch {
	case err != nil:
		return fmt.Errorf("legacy patch: %w", err)
	case fromFile:
		l.Version, l.VersionFile = v.String(), file
		if fromName && named != l.Version {
			p.opts.logf("package %s: its name says version %s, its %s says %s: the version file wins", p.Path, named, file, l.Version)
		}
	case fromName:
		l.Version = named
	default:
		return fmt.Errorf("legacy patch (it holds %s) carries no %s, so the version must be in the file name, as in omflow_patch_1_2_0_0.tar.gz", l.Script, legacyVersionFiles[0])
	}
	l.Label = label
	p.Legacy = l
	p.Signature = SigUnsigned
	p.SignatureErr = errors.New("a legacy patch (patch.sh) carries no signature")
	from := "its name"
	if l.VersionFile != "" {
		from = l.VersionFile
	}
	p.opts.logf("package %s: legacy patch %s, version %s from %s, unsigned", p.Path, l.Script, l.Display(), from)
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
	if headMember(name) {
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
