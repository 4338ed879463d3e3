// Package pkg reads, checks, extracts and builds OMFLOW update packages (SPEC 4.2, 4.8),
// and makes and reads the minisign keys that sign them.
//
// # The package format
//
// A package is one archive, .tar.gz (or .tgz), or .zip for Windows. Pack writes a
// .tar.gz as a series of gzip members of 1 MiB of tar stream each, every one naming its
// own compressed length in its header's extra field (subfield "OB"): gzip, tar xzf and
// any gzip library read it as one stream, and this reader decompresses the members on
// every core at once (blocks.go). A .tar.gz made otherwise is read as one stream. Its
// members:
//
//	manifest.json           what the update is (below); the first member
//	manifest.json.minisig   minisign signature of manifest.json; the second member
//	keys.json               optional (pack -keys): the keys document that trusts the
//	keys.json.minisig       release key, signed by the root, and for a root rotation by
//	keys.json.cross.minisig the previous root too (format: upgrade/trust)
//	payload/<path>          the new files, <path> relative to the installation root
//	base/<path>             for config files only: the previous release's copy (pack -base)
//
// Nothing else: a member the manifest does not call for is refused. After `tar xzf`, a
// release engineer checks a package with the standard tool:
//
//	minisign -Vm manifest.json -p omflow-upgrade.pub
//	minisign -Vm keys.json -p omflow-upgrade-root.pub
//
// manifest.json (format 1) is a JSON object; unknown fields are refused:
//
//	{
//	  "format": 1,
//	  "product": "OMFLOW",
//	  "version": "1.2.0.0",          a.b.c.d with an optional hotfix label (1.1.6.3fix3)
//	  "from": "1.1.6",               optional: the feature version the update starts from
//	  "requires": {"python": "3.11", "django": "4.2"},   both optional
//	  "licenses": {"en": "...", "zh-Hant": "...", "ja": "..."},   BCP 47 tag -> text
//	  "files": [
//	    {"path": "server/omflow/views.py", "kind": "file", "mode": "0644",
//	     "size": 1234, "sha256": "<64 hex digits>"},
//	    {"path": "server/omflow/settings.py", "kind": "config", "mode": "0644",
//	     "size": 2345, "sha256": "...", "base": {"size": 2300, "sha256": "..."}},
//	    {"path": "server/db.omflow", "kind": "data", "mode": "0644", "size": 9, "sha256": "..."},
//	    {"path": "python/bin/python3", "kind": "file", "mode": "0777", "size": 0,
//	     "link": "python3.11"}
//	  ],
//	  "delete": ["server/omflow/old_view.py"],
//	  "schema": "server/db.omflow"   optional: the data file that is the release's database
//	}
//
// Paths are slash-separated, clean, relative, inside the root, and unique even when case
// is ignored (Windows); a link's target is relative and stays inside the root; no file
// lies below a link. The license texts are inside the manifest, so the signature covers
// them. Kinds (SPEC 4.8): "file" is replaced; "config" (DefaultConfig, any django.conf,
// and pack's -config list) may be merged with the administrator's edits; "data"
// (DefaultData and pack's -data list) is never replaced on an existing installation.
// "schema" names the payload's SQLite data file that is the release's own database
// (pack sets it when a data file starts with SQLite's header, the default data path
// first): apply brings the site's database to its schema instead of replacing it.
//
// The signature is minisign's prehashed Ed25519 ("ED"); its trusted comment names the
// product and version. Pack writes members sorted, with fixed times, so the same input
// gives the same bytes.
//
// Seed-style legacy patches (omflow_patch_1_2_0_0.tar.gz holding patch.sh at the top or
// one folder down) open as Legacy, version from the file name, unsigned.
//
// # Safety
//
// Open reads the whole archive and writes nothing. It refuses absolute names, names with
// "..", backslashes or NUL, duplicate names (also those differing only in case), hard
// links, devices, pipes, symbolic links that point outside, more members or more declared
// bytes than Limits allow, members whose size or SHA-256 differs from the manifest,
// unlisted members, and (unless Options.AllowUnsigned) a missing or bad signature.
// Extract writes only below the folder it is given, through an os.Root, checking every
// member again as it writes it.
package pkg
