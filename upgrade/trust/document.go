package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/version"
)

// Format is the keys document format this code writes and reads.
const Format = 1

// MaxDocument bounds a keys document read into memory.
const MaxDocument = 1 << 20

// Document is a parsed keys document (see the package comment for its format).
type Document struct {
	Format          int      `json:"format"`
	Serial          uint64   `json:"serial"`
	Issued          string   `json:"issued"`
	Root            string   `json:"root"`
	PreviousRoot    string   `json:"previous_root,omitempty"`
	Keys            []Key    `json:"keys"`
	RevokedKeys     []string `json:"revoked_keys"`
	RevokedPackages []string `json:"revoked_packages"`
	MinVersion      string   `json:"min_version,omitempty"`
}

// Key is one release key the document trusts.
type Key struct {
	ID       string `json:"id"`
	Key      string `json:"key"`
	NotAfter string `json:"not_after"`
}

// KeyID is a key's id as minisign prints it (upper-case hex).
func KeyID(id uint64) string { return strings.ToUpper(strconv.FormatUint(id, 16)) }

// EncodeKey is a public key as the document holds it: minisign's base64 line.
func EncodeKey(k minisign.PublicKey) string {
	text, _ := k.MarshalText() // never fails for a key minisign made
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	return lines[len(lines)-1] // the key line, without minisign's comment line
}

// decodeKey reads a key as the document holds it.
func decodeKey(s string) (minisign.PublicKey, error) {
	var k minisign.PublicKey
	if strings.ContainsAny(s, " \t\r\n") {
		return k, errors.New("a key is one base64 line")
	}
	err := k.UnmarshalText([]byte(s))
	return k, err
}

// RootKey is the document's root public key.
func (d *Document) RootKey() minisign.PublicKey { k, _ := decodeKey(d.Root); return k }

// PreviousRootKey is the root the document replaces; ok is false when it replaces none.
func (d *Document) PreviousRootKey() (k minisign.PublicKey, ok bool) {
	if d.PreviousRoot == "" {
		return k, false
	}
	k, _ = decodeKey(d.PreviousRoot)
	return k, true
}

// Find returns the release key with id.
func (d *Document) Find(id uint64) (Key, minisign.PublicKey, bool) {
	for _, k := range d.Keys {
		if pk, err := decodeKey(k.Key); err == nil && pk.ID() == id {
			return k, pk, true
		}
	}
	return Key{}, minisign.PublicKey{}, false
}

// Revoked says whether the document revokes the key with id.
func (d *Document) Revoked(id uint64) bool {
	for _, r := range d.RevokedKeys {
		if n, err := strconv.ParseUint(r, 16, 64); err == nil && n == id {
			return true
		}
	}
	return false
}

// PackageRevoked says whether the document revokes the package file with this SHA-256.
func (d *Document) PackageRevoked(sha string) bool {
	for _, r := range d.RevokedPackages {
		if r == sha {
			return true
		}
	}
	return false
}

// NotAfter is when the key stops being trusted.
func (k Key) NotAfterTime() time.Time { t, _ := parseTime(k.NotAfter); return t }

// FormatTime writes a time as the document does: RFC 3339, UTC, whole seconds.
func FormatTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("%q is not a time as 2026-12-04T12:00:00Z", s)
	}
	if FormatTime(t) != s {
		return t, fmt.Errorf("%q: write times in UTC, to the second, as 2026-12-04T12:00:00Z", s)
	}
	return t, nil
}

var (
	hexID     = regexp.MustCompile(`^[0-9A-F]{1,16}$`)
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Parse reads a keys document strictly: unknown fields, a field given twice, trailing
// data, bad keys, ids, dates, hashes or versions, and anything listed twice are refused.
func Parse(b []byte) (*Document, error) {
	if len(b) > MaxDocument {
		return nil, fmt.Errorf("keys document: %d bytes, more than %d", len(b), MaxDocument)
	}
	if err := noDuplicateFields(b); err != nil {
		return nil, fmt.Errorf("keys document: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("keys document: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("keys document: data after the JSON object")
	}
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("keys document (serial %d): %w", d.Serial, err)
	}
	return &d, nil
}

func (d *Document) validate() error {
	switch {
	case d.Format != Format:
		return fmt.Errorf("format %d, this program reads format %d", d.Format, Format)
	case d.Serial == 0:
		return errors.New("serial must be 1 or more")
	}
	if _, err := parseTime(d.Issued); err != nil {
		return fmt.Errorf("issued: %w", err)
	}
	root, err := decodeKey(d.Root)
	if err != nil {
		return fmt.Errorf("root: %w", err)
	}
	if d.PreviousRoot != "" {
		prev, err := decodeKey(d.PreviousRoot)
		if err != nil {
			return fmt.Errorf("previous_root: %w", err)
		}
		if prev.ID() == root.ID() {
			return errors.New("previous_root is the root itself")
		}
	}
	if len(d.Keys) == 0 {
		return errors.New("no release key in keys")
	}
	ids := map[uint64]bool{}
	for i, k := range d.Keys {
		pk, err := decodeKey(k.Key)
		if err != nil {
			return fmt.Errorf("keys[%d]: %w", i, err)
		}
		switch {
		case k.ID != KeyID(pk.ID()):
			return fmt.Errorf("keys[%d]: id %q, the key's id is %s", i, k.ID, KeyID(pk.ID()))
		case ids[pk.ID()]:
			return fmt.Errorf("keys[%d]: key %s listed twice", i, k.ID)
		case pk.ID() == root.ID():
			return fmt.Errorf("keys[%d]: the root key %s cannot be a release key", i, k.ID)
		}
		ids[pk.ID()] = true
		if _, err := parseTime(k.NotAfter); err != nil {
			return fmt.Errorf("keys[%d] (%s) not_after: %w", i, k.ID, err)
		}
	}
	revoked := map[uint64]bool{}
	for i, r := range d.RevokedKeys {
		if !hexID.MatchString(r) || strings.HasPrefix(r, "0") {
			return fmt.Errorf("revoked_keys[%d]: %q is not a key id as minisign prints it (upper-case hex)", i, r)
		}
		n, _ := strconv.ParseUint(r, 16, 64)
		switch {
		case revoked[n]:
			return fmt.Errorf("revoked_keys[%d]: %s listed twice", i, r)
		case ids[n]:
			return fmt.Errorf("revoked_keys[%d]: key %s is both trusted and revoked", i, r)
		}
		revoked[n] = true
	}
	hashes := map[string]bool{}
	for i, h := range d.RevokedPackages {
		switch {
		case !sha256Hex.MatchString(h):
			return fmt.Errorf("revoked_packages[%d]: %q is not a SHA-256 (64 lower-case hex digits)", i, h)
		case hashes[h]:
			return fmt.Errorf("revoked_packages[%d]: %s listed twice", i, h)
		}
		hashes[h] = true
	}
	if d.MinVersion != "" {
		if _, err := version.Parse(d.MinVersion); err != nil {
			return fmt.Errorf("min_version: %w", err)
		}
	}
	return nil
}

// Marshal writes the document as Parse reads it, indented, lists never null.
func (d *Document) Marshal() ([]byte, error) {
	c := *d
	if c.RevokedKeys == nil {
		c.RevokedKeys = []string{}
	}
	if c.RevokedPackages == nil {
		c.RevokedPackages = []string{}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// noDuplicateFields refuses a JSON object that names a field twice, at any depth:
// encoding/json would silently keep the last one.
func noDuplicateFields(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var walk func(depth int) error
	walk = func(depth int) error {
		if depth > 16 {
			return errors.New("nested too deep")
		}
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				name, _ := k.(string)
				if seen[name] {
					return fmt.Errorf("field %q given twice", name)
				}
				seen[name] = true
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	return walk(0)
}
