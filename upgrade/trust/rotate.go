package trust

import (
	"errors"
	"fmt"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/version"
)

// DefaultValidity is how long a release key added without -expires is trusted.
const DefaultValidity = 365 * 24 * time.Hour

// Change is what keys init or keys rotate writes into the next document.
type Change struct {
	// Add are release keys to trust from now on, for Expires (DefaultValidity when 0).
	Add []minisign.PublicKey
	// Revoke are release keys to trust no more, forever.
	Revoke []minisign.PublicKey
	// RevokePackages are SHA-256 sums (hex) of package files never to install.
	RevokePackages []string
	// MinVersion raises the floor; it never goes down.
	MinVersion string
	// Expires is the validity of the keys added; with none added, every listed key is
	// renewed for it.
	Expires time.Duration
	// NewRoot, on rotate, replaces the root: the document is signed by the old root
	// and by this one.
	NewRoot *minisign.PrivateKey
	// CrossRoot, on rotate after a root rotation, is the replaced root (the input's
	// previous_root): the next document names it again and is signed by it too, so
	// that an installation that has not yet seen the rotation still follows.
	CrossRoot *minisign.PrivateKey
	// Now is the time the document is issued.
	Now time.Time
}

// Init writes serial 1, signed by root.
func Init(root minisign.PrivateKey, c Change) (*Signed, error) {
	if len(c.Add) == 0 {
		return nil, errors.New("a first keys document needs a release key (-add REL.pub)")
	}
	if len(c.Revoke) > 0 || c.NewRoot != nil {
		return nil, errors.New("a first keys document has nothing to revoke or rotate")
	}
	d := &Document{Format: Format, Serial: 1, Root: EncodeKey(root.Public().(minisign.PublicKey))}
	if err := c.apply(d, nil); err != nil {
		return nil, err
	}
	return Sign(d, root, nil)
}

// Rotate writes the document after prev, serial + 1, signed by root (prev's root).
func Rotate(prev *Signed, root minisign.PrivateKey, c Change) (*Signed, error) {
	old := prev.Doc
	if EncodeKey(root.Public().(minisign.PublicKey)) != old.Root {
		return nil, fmt.Errorf("the root key given is %s; keys document serial %d is signed by root %s", KeyID(root.ID()), old.Serial, KeyID(old.RootKey().ID()))
	}
	d := *old
	d.Serial++
	d.PreviousRoot = ""
	d.Keys = append([]Key(nil), old.Keys...)
	d.RevokedKeys = append([]string(nil), old.RevokedKeys...)
	d.RevokedPackages = append([]string(nil), old.RevokedPackages...)
	signer, cross := root, (*minisign.PrivateKey)(nil)
	if c.CrossRoot != nil {
		prev, ok := old.PreviousRootKey()
		switch {
		case c.NewRoot != nil:
			return nil, errors.New("a new root and a cross-signature by the replaced root in one rotation: rotate the root first")
		case !ok:
			return nil, fmt.Errorf("keys document serial %d replaces no root: there is no previous root to cross-sign with", old.Serial)
		case prev.ID() != c.CrossRoot.ID():
			return nil, fmt.Errorf("the cross-signing key is %s; keys document serial %d replaced root %s", KeyID(c.CrossRoot.ID()), old.Serial, KeyID(prev.ID()))
		}
		d.PreviousRoot, cross = old.PreviousRoot, c.CrossRoot
	}
	if c.NewRoot != nil {
		if c.NewRoot.ID() == root.ID() {
			return nil, errors.New("the new root key is the root key itself")
		}
		d.PreviousRoot, d.Root = old.Root, EncodeKey(c.NewRoot.Public().(minisign.PublicKey))
		signer, cross = *c.NewRoot, &root
	}
	if err := c.apply(&d, old); err != nil {
		return nil, err
	}
	return Sign(&d, signer, cross)
}

func (c Change) apply(d *Document, old *Document) error {
	d.Issued = FormatTime(c.Now)
	validity := c.Expires
	if validity == 0 {
		validity = DefaultValidity
	}
	notAfter := FormatTime(c.Now.Add(validity))
	for _, k := range c.Revoke {
		id := KeyID(k.ID())
		i := indexOf(d.Keys, k.ID())
		if i < 0 {
			if d.Revoked(k.ID()) {
				return fmt.Errorf("key %s is revoked already", id)
			}
			return fmt.Errorf("key %s is not in the keys document: nothing to revoke", id)
		}
		d.Keys = append(d.Keys[:i], d.Keys[i+1:]...)
		d.RevokedKeys = append(d.RevokedKeys, id)
	}
	if len(c.Add) == 0 && c.Expires != 0 {
		for i := range d.Keys {
			d.Keys[i].NotAfter = notAfter
		}
	}
	for _, k := range c.Add {
		id := KeyID(k.ID())
		switch {
		case indexOf(d.Keys, k.ID()) >= 0:
			return fmt.Errorf("key %s is in the keys document already", id)
		case d.Revoked(k.ID()):
			return fmt.Errorf("key %s was revoked: a revoked key is never trusted again", id)
		case k.ID() == d.RootKey().ID():
			return fmt.Errorf("key %s is the root key: release keys and the root must differ", id)
		}
		d.Keys = append(d.Keys, Key{ID: id, Key: EncodeKey(k), NotAfter: notAfter})
	}
	if len(d.Keys) == 0 {
		return errors.New("no release key would be left: add one (-add NEW.pub) in the same rotation")
	}
	for _, h := range c.RevokePackages {
		if !d.PackageRevoked(h) {
			d.RevokedPackages = append(d.RevokedPackages, h)
		}
	}
	if c.MinVersion != "" {
		v, err := version.Parse(c.MinVersion)
		if err != nil {
			return fmt.Errorf("-min-version: %w", err)
		}
		if old != nil && old.MinVersion != "" && v.Less(version.MustParse(old.MinVersion)) {
			return fmt.Errorf("-min-version %s is below %s, the floor of serial %d: the floor never goes down", v, old.MinVersion, old.Serial)
		}
		d.MinVersion = v.String()
	}
	return d.validate()
}

func indexOf(keys []Key, id uint64) int {
	for i, k := range keys {
		if pk, err := decodeKey(k.Key); err == nil && pk.ID() == id {
			return i
		}
	}
	return -1
}
