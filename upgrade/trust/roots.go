package trust

import (
	"bytes"
	_ "embed"

	"aead.dev/minisign"
)

// root.pub is the OMFLOW release team's root key: its secret half never leaves an
// offline machine (README, release engineers).
//
//go:embed root.pub
var rootKey []byte

// BuiltinRoots are the root keys the program trusts while an installation keeps no
// keys document.
func BuiltinRoots() []minisign.PublicKey {
	var k minisign.PublicKey
	if err := k.UnmarshalText(bytes.TrimSpace(rootKey)); err != nil {
		panic("upgrade/trust: built-in root.pub: " + err.Error())
	}
	return []minisign.PublicKey{k}
}
