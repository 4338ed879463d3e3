package pkg

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"aead.dev/minisign"
	"golang.org/x/crypto/blake2b"

	"omflow-upgrade/upgrade/trust"
)

// Key file names that keygen writes.
const (
	PublicKeyFile  = "omflow-upgrade.pub"
	PrivateKeyFile = "omflow-upgrade.key"
	// The root key (keygen -root) signs keys documents only (upgrade/trust).
	RootPublicKeyFile  = "omflow-upgrade-root.pub"
	RootPrivateKeyFile = "omflow-upgrade-root.key"
)

//go:embed release.pub
var releaseKey []byte

// BuiltinPublicKey is the release key the program trusts when no other is given.
func BuiltinPublicKey() minisign.PublicKey {
	k, err := ParsePublicKey(releaseKey)
	if err != nil {
		panic("upgrade/pkg: built-in release.pub: " + err.Error())
	}
	return k
}

// KeyID is a key's id as minisign prints it (upper-case hex).
func KeyID(id uint64) string { return trust.KeyID(id) }

// GenerateKey writes a new minisign key pair into dir (created if missing) as
// omflow-upgrade.pub and omflow-upgrade.key. The secret key is not encrypted (as
// `minisign -G -W` writes it), so that pack runs unattended; keep it offline. Existing key
// files are never overwritten.
func GenerateKey(dir string) (pubPath, keyPath string, err error) {
	return generateKey(dir, PublicKeyFile, PrivateKeyFile)
}

// GenerateRootKey writes a new root key pair into dir as omflow-upgrade-root.pub and
// omflow-upgrade-root.key, as GenerateKey does.
func GenerateRootKey(dir string) (pubPath, keyPath string, err error) {
	return generateKey(dir, RootPublicKeyFile, RootPrivateKeyFile)
}

func generateKey(dir, pubName, keyName string) (pubPath, keyPath string, err error) {
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	pubText, err := pub.MarshalText()
	if err != nil {
		return "", "", err
	}
	privText, err := marshalPrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("key folder %q: %w", dir, err)
	}
	pubPath, keyPath = filepath.Join(dir, pubName), filepath.Join(dir, keyName)
	for _, p := range []string{pubPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("key file %q exists: not overwriting a key", p)
		}
	}
	if err := writeNew(keyPath, privText, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, append(pubText, '\n'), 0o644); err != nil {
		os.Remove(keyPath)
		return "", "", err
	}
	return pubPath, keyPath, nil
}

func writeNew(p string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write key %q: %w", p, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return fmt.Errorf("write key %q: %w", p, err)
	}
	return nil
}

// marshalPrivateKey writes an unencrypted secret key with the checksum the minisign tool
// checks when it loads a key (the library leaves it zero for unencrypted keys).
func marshalPrivateKey(k minisign.PrivateKey) ([]byte, error) {
	text, err := k.MarshalText()
	if err != nil {
		return nil, err
	}
	comment, enc, _ := bytes.Cut(text, []byte("\n"))
	raw, err := base64.StdEncoding.DecodeString(string(enc))
	if err != nil || len(raw) != 158 {
		return nil, errors.New("encode secret key: unexpected layout")
	}
	// layout: sig alg (2) | kdf (2) | hash (2) | salt (32) | ops (8) | mem (8) |
	// key id (8) | secret key (64) | checksum (32); checksum = BLAKE2b-256(sig alg | id | key)
	h, _ := blake2b.New256(nil)
	h.Write(raw[0:2])
	h.Write(raw[54:126])
	copy(raw[126:], h.Sum(nil))
	out := append(comment, '\n')
	out = append(out, base64.StdEncoding.EncodeToString(raw)...)
	return append(out, '\n'), nil
}

// ParsePublicKey reads a minisign public key: the file minisign -G writes (comment line
// and key line) or the bare base64 line.
func ParsePublicKey(b []byte) (minisign.PublicKey, error) {
	var k minisign.PublicKey
	if err := k.UnmarshalText(bytes.TrimSpace(b)); err != nil {
		return k, err
	}
	return k, nil
}

// LoadPublicKey reads a public key file.
func LoadPublicKey(p string) (minisign.PublicKey, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return minisign.PublicKey{}, fmt.Errorf("public key %q: %w", p, err)
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return k, fmt.Errorf("public key %q: %w", p, err)
	}
	return k, nil
}

// LoadPrivateKey reads a minisign secret key file: unencrypted (keygen, minisign -G -W),
// or encrypted with password (minisign -G).
func LoadPrivateKey(p, password string) (minisign.PrivateKey, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return minisign.PrivateKey{}, fmt.Errorf("secret key %q: %w", p, err)
	}
	var k minisign.PrivateKey
	if minisign.IsEncrypted(b) {
		if password == "" {
			return k, fmt.Errorf("secret key %q is encrypted: a password is needed", p)
		}
		k, err = minisign.DecryptKey(password, b)
	} else {
		err = k.UnmarshalText(bytes.TrimSpace(b))
	}
	if err != nil {
		return k, fmt.Errorf("secret key %q: %w", p, err)
	}
	return k, nil
}

// sign makes the detached signature of a manifest, prehashed as `minisign -S` does by
// default.
func sign(k minisign.PrivateKey, manifest []byte, version string) []byte {
	r := minisign.NewReader(bytes.NewReader(manifest))
	_, _ = io.Copy(io.Discard, r) // the reader hashes what passes through it
	return r.SignWithComments(k,
		"omflow-upgrade package "+Product+" "+version,
		"signature from omflow-upgrade secret key "+KeyID(k.ID()))
}

// verify checks sig over manifest with each key; it returns the key that verified it.
func verify(keys []minisign.PublicKey, manifest, sig []byte) (minisign.PublicKey, error) {
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return minisign.PublicKey{}, fmt.Errorf("signature: %w", err)
	}
	for _, k := range keys {
		if k.ID() == s.KeyID && minisign.Verify(k, manifest, sig) {
			return k, nil
		}
	}
	for _, k := range keys {
		if k.ID() == s.KeyID {
			return minisign.PublicKey{}, fmt.Errorf("signature by key %s does not match the manifest: the manifest or its signature was changed", KeyID(s.KeyID))
		}
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = KeyID(k.ID())
	}
	return minisign.PublicKey{}, fmt.Errorf("signed by key %s, not by a trusted key (%s)", KeyID(s.KeyID), strings.Join(ids, ", "))
}
