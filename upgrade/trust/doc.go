// Package trust holds the keys document: which release keys may sign update packages,
// for how long, which keys and packages are revoked, and the lowest version an
// installation may take. The document is signed by an offline root key; the program
// carries the root public key (BuiltinRoots), so a release key can be replaced, expire
// or be revoked without replacing the program, and every check runs offline.
//
// # The keys document
//
// Three files, each readable on its own and checked by the standard minisign tool:
//
//	keys.json                  the document (below)
//	keys.json.minisig          minisign signature of keys.json by "root"
//	keys.json.cross.minisig    only when the document rotates the root: the signature of
//	                           keys.json by "previous_root"
//
// keys.json is a JSON object; unknown fields, a field given twice, bad dates and keys
// listed twice are refused:
//
//	{
//	  "format": 1,
//	  "serial": 3,                      grows by one with every document; never goes down
//	  "issued": "2026-12-04T12:00:00Z", RFC 3339, UTC
//	  "root": "RWQ...",                 the root public key (minisign base64) that signs it
//	  "previous_root": "RWQ...",        optional: the root this document replaces; it
//	                                    signs the document too (keys.json.cross.minisig)
//	  "keys": [                         the release keys that may sign packages
//	    {"id": "D0CA502B6431B4F1", "key": "RWTx...", "not_after": "2027-12-04T12:00:00Z"}
//	  ],
//	  "revoked_keys": ["8E0B2C4F1A3D5E67"],          key ids (minisign's hex), forever
//	  "revoked_packages": ["<sha256 of the package file, 64 hex digits>"],
//	  "min_version": "1.1.6.0"          optional: no package below this version is taken
//	}
//
// # What a program accepts
//
// An installation keeps the newest document it has accepted in its state folder
// (ROOT/.omflow-upgrade/trust/). The roots it trusts are the kept document's root when
// there is one, else the program's own roots (or -pubkey). A document is accepted when
// its root is trusted and its signature verifies, or when it rotates the root: its
// previous_root is trusted and signs it too (cross-signed), so that an old program
// follows a new root exactly once: after that document is kept, the old root is trusted
// no more. After a root rotation, the next documents may keep naming the replaced root
// and carry its signature too (keys rotate -cross-root-key), for installations that
// have not followed yet. A package whose document's serial is below the kept one's is checked against
// the kept one and refused (ReasonRollback, unless a more telling reason applies); a
// document of the same serial must be the same bytes.
//
// The package's manifest must then be signed by a key the document lists; a revoked
// package file (ReasonPackageRevoked), a version below min_version (ReasonBelowFloor), a
// revoked key (ReasonKeyRevoked) and a key past its not_after (ReasonKeyExpired) are
// refused, the first of them in this order given as the reason. Revocations and the floor of the kept document still count when a newer one
// forgets them: a key revoked once stays revoked, and the floor never goes down.
package trust
