package trust

import (
	"fmt"
	"strings"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

// Reason codes of the keys document's refusals (exit 3), stable for logs, -json and the
// wizard's translations.
const (
	ReasonKeyExpired     outcome.Reason = "key-expired"
	ReasonKeyRevoked     outcome.Reason = "key-revoked"
	ReasonPackageRevoked outcome.Reason = "package-revoked"
	ReasonBelowFloor     outcome.Reason = "below-min-version"
	ReasonRollback       outcome.Reason = "keys-rollback"
)

// Package is what Evaluate needs of an update package.
type Package struct {
	// Manifest and Signature are the signed manifest and its minisign signature.
	Manifest, Signature []byte
	// Version is the version the package installs.
	Version string
	// Hash returns the SHA-256 of the package file (hex); it is called only when a
	// document revokes packages.
	Hash func() (string, error)
}

// Input is what an installation trusts.
type Input struct {
	// Roots are the program's root keys (or -pubkey's); used while nothing is kept.
	Roots []minisign.PublicKey
	// Kept is the installation's newest document, Carried the package's; either may be nil.
	Kept, Carried *Signed
	// Now is the time expiry is read against.
	Now time.Time
}

// Verdict is what the documents say of a package.
type Verdict struct {
	// Doc is the document that rules: the carried one when it is accepted, else the
	// kept one; nil when there is neither (a package signed the old way, directly).
	Doc *Signed
	// Keep says Carried is newer than what the installation keeps: apply keeps it.
	Keep bool
	// Key is the release key that signed the manifest; Verified says its signature was
	// checked (a revoked key's cannot be: the document no longer holds it).
	Key      Key
	KeyID    string
	Verified bool
	// Refusal is the first policy refusal, nil when the package may be taken.
	Refusal *outcome.RefusedError

	rollback error // the package carries a document older than the kept one
}

// Evaluate decides whether the documents let the installation take the package. A
// signature chain that does not lead to a trusted root is a *ChainError; a package the
// documents refuse has Verdict.Refusal set.
func Evaluate(in Input, p Package) (*Verdict, error) {
	v := &Verdict{}
	if err := v.resolve(in); err != nil {
		return nil, err
	}
	if v.Doc == nil {
		return v, nil
	}
	// The package's own refusals first: they are the most telling.
	if err := v.checkPackage(in, p); err != nil {
		return nil, err
	}
	if err := v.checkKey(in, p); err != nil {
		return nil, err
	}
	if v.rollback != nil {
		// Last, so that a more telling reason (a revoked key or package) is the one given.
		v.refuse(ReasonRollback, "%v", v.rollback)
	}
	return v, nil
}

// resolve picks the ruling document and checks the carried one's chain to a trusted root.
func (v *Verdict) resolve(in Input) error {
	kept, carried := in.Kept, in.Carried
	switch {
	case carried == nil:
		v.Doc = kept
		return nil
	case kept != nil && carried.Doc.Serial < kept.Doc.Serial:
		v.Doc = kept
		v.rollback = fmt.Errorf("the package carries keys document serial %d, older than serial %d that this installation keeps: an older keys document is never accepted again (it could bring back a revoked key)",
			carried.Doc.Serial, kept.Doc.Serial)
		return nil
	case kept != nil && carried.Doc.Serial == kept.Doc.Serial:
		if string(carried.Raw) != string(kept.Raw) {
			return chainErr("the package's keys document serial %d differs from the kept one of the same serial: two documents claim one serial", carried.Doc.Serial)
		}
		v.Doc = kept
		return nil
	}
	trusted := in.Roots
	if kept != nil {
		trusted = []minisign.PublicKey{kept.Doc.RootKey()}
	}
	root := carried.Doc.RootKey()
	prev, rotates := carried.Doc.PreviousRootKey()
	switch {
	case has(trusted, root):
	case rotates && has(trusted, prev):
		// A root rotation, signed by both: accepted once; kept, it trusts the new root alone.
	case rotates:
		return chainErr("the package's keys document serial %d is signed by root %s and by root %s, neither of which this installation trusts (%s)",
			carried.Doc.Serial, KeyID(root.ID()), KeyID(prev.ID()), ids(trusted))
	default:
		return chainErr("the package's keys document serial %d is signed by root %s, which this installation does not trust (%s)",
			carried.Doc.Serial, KeyID(root.ID()), ids(trusted))
	}
	v.Doc, v.Keep = carried, true
	return nil
}

func has(keys []minisign.PublicKey, k minisign.PublicKey) bool {
	for _, x := range keys {
		if x.ID() == k.ID() && x.Equal(k) {
			return true
		}
	}
	return false
}

func ids(keys []minisign.PublicKey) string {
	if len(keys) == 0 {
		return "no root"
	}
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = "root " + KeyID(k.ID())
	}
	return strings.Join(s, ", ")
}

func (v *Verdict) refuse(reason outcome.Reason, format string, args ...any) {
	if v.Refusal == nil {
		v.Refusal = &outcome.RefusedError{Reason: reason, Err: fmt.Errorf(format, args...)}
	}
}

// checkKey verifies the manifest with the release key the document lists.
func (v *Verdict) checkKey(in Input, p Package) error {
	var s minisign.Signature
	if err := s.UnmarshalText(p.Signature); err != nil {
		return chainErr("manifest signature: %w", err)
	}
	d := v.Doc.Doc
	v.KeyID = KeyID(s.KeyID)
	if d.Revoked(s.KeyID) || (in.Kept != nil && in.Kept.Doc.Revoked(s.KeyID)) {
		v.refuse(ReasonKeyRevoked, "the package is signed by release key %s, which the keys document revokes", v.KeyID)
		return nil
	}
	k, pk, ok := d.Find(s.KeyID)
	if v.rollback != nil && (!ok || !minisign.Verify(pk, p.Manifest, p.Signature)) {
		return nil // refused anyway (an older document): its key need not be current
	}
	if !ok {
		return chainErr("the package is signed by key %s, which keys document serial %d does not list", v.KeyID, d.Serial)
	}
	if !minisign.Verify(pk, p.Manifest, p.Signature) {
		return chainErr("signature by key %s does not match the manifest: the manifest or its signature was changed", v.KeyID)
	}
	v.Key, v.Verified = k, true
	if !in.Now.Before(k.NotAfterTime()) {
		v.refuse(ReasonKeyExpired, "release key %s expired on %s (keys document serial %d): ask for the package signed with a current key",
			v.KeyID, k.NotAfter, d.Serial)
	}
	return nil
}

// checkPackage applies the revoked packages and the version floor.
func (v *Verdict) checkPackage(in Input, p Package) error {
	docs := []*Document{v.Doc.Doc}
	if in.Kept != nil && in.Kept != v.Doc {
		docs = append(docs, in.Kept.Doc)
	}
	for _, d := range docs {
		if len(d.RevokedPackages) == 0 {
			continue
		}
		sum, err := p.Hash()
		if err != nil {
			return err
		}
		for _, d := range docs {
			if d.PackageRevoked(sum) {
				v.refuse(ReasonPackageRevoked, "this package file (SHA-256 %s) is revoked by keys document serial %d: it must not be installed", sum, d.Serial)
			}
		}
		break
	}
	pv, err := version.Parse(p.Version)
	if err != nil {
		return &ChainError{Err: err}
	}
	for _, d := range docs {
		if d.MinVersion == "" {
			continue
		}
		if floor := version.MustParse(d.MinVersion); pv.Less(floor) {
			v.refuse(ReasonBelowFloor, "version %s is below %s, the lowest version keys document serial %d allows", pv, floor, d.Serial)
		}
	}
	return nil
}
