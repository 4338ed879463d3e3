package trust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/install"
)

// Names of the document's files, in a package and in the state folder; -out FILE names
// FILE, FILE.minisig and FILE.cross.minisig the same way.
const (
	DocumentName  = "keys.json"
	SignatureExt  = ".minisig"
	CrossExt      = ".cross.minisig"
	maxSignature  = 4 << 10
	stateSubdir   = "trust"
	signedComment = "signature from omflow-upgrade root key "
)

// Signed is a keys document with its signatures, as read: Raw is signed byte for byte.
type Signed struct {
	Doc *Document
	Raw []byte
	// Sig is the signature by Doc.Root; Cross, present only when the document rotates
	// the root, the signature by Doc.PreviousRoot.
	Sig, Cross []byte
}

// ChainError is a keys document or package signature that does not lead to a trusted
// root: unusable input (exit 2), not a policy refusal.
type ChainError struct{ Err error }

func (e *ChainError) Error() string { return e.Err.Error() }
func (e *ChainError) Unwrap() error { return e.Err }

func chainErr(format string, args ...any) error {
	return &ChainError{Err: fmt.Errorf(format, args...)}
}

// ParseSigned reads a document and checks that its own signatures hold: Sig by its root,
// and Cross by its previous root exactly when it names one. Whether the root is trusted
// is Evaluate's question.
func ParseSigned(raw, sig, cross []byte) (*Signed, error) {
	d, err := Parse(raw)
	if err != nil {
		return nil, &ChainError{Err: err}
	}
	s := &Signed{Doc: d, Raw: raw, Sig: sig, Cross: cross}
	if err := verifyBy(d.RootKey(), "root", raw, sig); err != nil {
		return nil, err
	}
	prev, rotates := d.PreviousRootKey()
	switch {
	case rotates && cross == nil:
		return nil, chainErr("keys document serial %d replaces root %s but carries no signature by it (%s)", d.Serial, KeyID(prev.ID()), DocumentName+CrossExt)
	case rotates:
		if err := verifyBy(prev, "previous root", raw, cross); err != nil {
			return nil, err
		}
	case cross != nil:
		return nil, chainErr("keys document serial %d names no previous_root but carries a cross-signature", d.Serial)
	}
	return s, nil
}

func verifyBy(k minisign.PublicKey, who string, raw, sig []byte) error {
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return chainErr("keys document: signature by the %s: %w", who, err)
	}
	if s.KeyID != k.ID() {
		return chainErr("keys document: signed by key %s, its %s is %s", KeyID(s.KeyID), who, KeyID(k.ID()))
	}
	if !minisign.Verify(k, raw, sig) {
		return chainErr("keys document: the signature by its %s %s does not match: the document or its signature was changed", who, KeyID(k.ID()))
	}
	return nil
}

// Sign makes the signed document: signed by root, and by previous when the document
// rotates the root (previous must then be the key Doc.PreviousRoot names). The
// signatures are minisign's prehashed ones, as `minisign -S` makes them.
func Sign(d *Document, root minisign.PrivateKey, previous *minisign.PrivateKey) (*Signed, error) {
	if EncodeKey(root.Public().(minisign.PublicKey)) != d.Root {
		return nil, errors.New("the root key does not match the document's root")
	}
	raw, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	s := &Signed{Doc: d, Raw: raw, Sig: sign(root, raw, d.Serial)}
	if pk, rotates := d.PreviousRootKey(); rotates {
		if previous == nil || previous.ID() != pk.ID() {
			return nil, fmt.Errorf("the document replaces root %s: it must be signed by that key too", KeyID(pk.ID()))
		}
		s.Cross = sign(*previous, raw, d.Serial)
	}
	return s, nil
}

func sign(k minisign.PrivateKey, raw []byte, serial uint64) []byte {
	r := minisign.NewReader(bytes.NewReader(raw))
	_, _ = io.Copy(io.Discard, r) // the reader hashes what passes through it
	return r.SignWithComments(k, fmt.Sprintf("omflow-upgrade keys serial %d", serial), signedComment+KeyID(k.ID()))
}

// ReadFiles reads file, file.minisig and, when present, file.cross.minisig.
func ReadFiles(file string) (*Signed, error) {
	raw, err := readSmall(file, MaxDocument)
	if err != nil {
		return nil, err
	}
	sig, err := readSmall(file+SignatureExt, maxSignature)
	if err != nil {
		return nil, err
	}
	cross, err := readSmall(file+CrossExt, maxSignature)
	if errors.Is(err, os.ErrNotExist) {
		cross, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := ParseSigned(raw, sig, cross)
	if err != nil {
		return nil, fmt.Errorf("keys document %q: %w", file, err)
	}
	return s, nil
}

func readSmall(file string, max int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", file, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%q: more than %d bytes", file, max)
	}
	return b, nil
}

// WriteFiles writes file, file.minisig and file.cross.minisig (removing a stale one),
// each through a temporary file and a rename.
func (s *Signed) WriteFiles(file string) error {
	if err := install.WriteFileAtomic(file+SignatureExt, s.Sig, 0o644); err != nil {
		return err
	}
	if s.Cross != nil {
		if err := install.WriteFileAtomic(file+CrossExt, s.Cross, 0o644); err != nil {
			return err
		}
	} else if err := os.Remove(file + CrossExt); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return install.WriteFileAtomic(file, s.Raw, 0o644)
}

// StateDir is where an installation keeps its newest document, under its state folder.
func StateDir(installationState string) string { return filepath.Join(installationState, stateSubdir) }

// LoadKept reads the document an installation keeps; nil when it keeps none. A kept
// document that does not hold together is an error: the state was changed by hand.
func LoadKept(installationState string) (*Signed, error) {
	file := filepath.Join(StateDir(installationState), DocumentName)
	if _, err := os.Lstat(file); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	s, err := ReadFiles(file)
	if err != nil {
		return nil, fmt.Errorf("the kept %w (restore it, or remove %s to trust the program's root again)", err, StateDir(installationState))
	}
	return s, nil
}

// Keep stores s as the installation's newest document unless it keeps one as new.
func Keep(installationState string, s *Signed) error {
	kept, err := LoadKept(installationState)
	if err != nil {
		return err
	}
	if kept != nil && kept.Doc.Serial >= s.Doc.Serial {
		return nil
	}
	dir := StateDir(installationState)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("keep keys document: %w", err)
	}
	return s.WriteFiles(filepath.Join(dir, DocumentName))
}
