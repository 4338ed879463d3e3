package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"omflow-upgrade/upgrade/bundle"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/trust"
)

func runKeygen(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	out := fs.String("out", "", "folder for omflow-upgrade.pub and omflow-upgrade.key")
	root := fs.Bool("root", false, "make the offline root key instead: omflow-upgrade-root.pub and .key")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	if _, err := c.parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *out == "" {
		return usageError("-out DIR is required")
	}
	log := c.openLog("")
	generate := pkg.GenerateKey
	if *root {
		generate = pkg.GenerateRootKey
	}
	pub, key, err := generate(*out)
	if err != nil {
		return outcome.Unusable(err)
	}
	log.Logf("keygen: wrote %s and %s", pub, key)
	if c.json {
		return c.printJSON(map[string]any{"ok": true, "public_key": pub, "secret_key": key, "root": *root, "log": log.Path})
	}
	c.printf("public key: %s\nsecret key: %s (not encrypted: keep it offline)\n", pub, key)
	return nil
}

func runPack(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	var o pkg.PackOptions
	keyFile := fs.String("key", "", "minisign secret key")
	keysFile := fs.String("keys", "", "keys document (keys.json, with keys.json.minisig beside it) the package carries")
	fs.StringVar(&o.Version, "version", "", "version the package installs, a.b.c.d")
	fs.StringVar(&o.From, "from", "", "feature version a.b.c the update upgrades from")
	fs.StringVar(&o.Python, "python", "", "Python version the update requires, X.Y")
	fs.StringVar(&o.Django, "django", "", "Django series the update runs on, X.Y (a Python move installs django==X.Y.*)")
	fs.StringVar(&o.LicenseDir, "license-dir", "", "folder of license texts, one per language (en.txt, zh-Hant.txt, ...)")
	deleteList := fs.String("delete", "", "file listing root-relative paths the update removes")
	configList := fs.String("config", "", "file listing root-relative config files")
	dataList := fs.String("data", "", "file listing root-relative data files")
	fs.StringVar(&o.BaseDir, "base", "", "the previous release, laid out as SRCDIR, for config base copies")
	fs.StringVar(&o.Out, "out", "", "package to write (.tar.gz or .zip)")
	exe := fs.String("exe", "", "also write the self-contained Windows update program: this wizard .exe (unsigned) with the package inside, as OUT's name with .exe")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	rest, err := c.parse(fs, args, 1, 1, "SRCDIR")
	if err != nil {
		return err
	}
	o.SrcDir = rest[0]
	switch {
	case *keyFile == "":
		return usageError("-key KEYFILE is required")
	case o.Version == "":
		return usageError("-version V is required")
	case o.Out == "":
		return usageError("-out FILE.tar.gz is required")
	}
	log := c.openLog("")
	o.Logf = log.Logf
	for _, l := range []struct {
		file string
		dst  *[]string
	}{{*deleteList, &o.Delete}, {*configList, &o.Config}, {*dataList, &o.Data}} {
		if l.file == "" {
			continue
		}
		if *l.dst, err = pkg.ReadList(l.file); err != nil {
			return err
		}
	}
	password := os.Getenv("OMFLOW_UPGRADE_KEY_PASSWORD")
	if o.Key, err = pkg.LoadPrivateKey(*keyFile, password); err != nil {
		return outcome.Unusable(err)
	}
	if *keysFile != "" {
		if o.Keys, err = trust.ReadFiles(*keysFile); err != nil {
			return outcome.Unusable(fmt.Errorf("-keys: %w", err))
		}
	}
	m, err := pkg.Pack(ctx, o)
	if err != nil {
		return err
	}
	log.Logf("pack: wrote %s (%s, %d files)", o.Out, m.Version, len(m.Files))
	out := map[string]any{"ok": true, "package": o.Out, "version": m.Version, "files": len(m.Files), "delete": len(m.Delete), "log": log.Path}
	if o.Keys != nil {
		log.Logf("pack: keys document serial %d inside", o.Keys.Doc.Serial)
		out["keys_serial"] = o.Keys.Doc.Serial
	} else {
		log.Logf("pack: no keys document (-keys): the package is signed directly by key %s, which omflow-upgrade %s refuses", pkg.KeyID(o.Key.ID()), pkg.DirectSignaturesEnd)
	}
	if *exe != "" {
		program := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(o.Out, ".tar.gz"), ".tgz"), ".zip") + ".exe"
		if err := bundle.Append(*exe, o.Out, program); err != nil {
			return outcome.Unusable(fmt.Errorf("pack -exe %q: %w", *exe, err))
		}
		log.Logf("pack: wrote %s (%s with the package inside)", program, *exe)
		out["exe"] = program
	}
	if c.json {
		return c.printJSON(out)
	}
	c.printf("wrote %s: OMFLOW %s, %d files, %d to delete\n", o.Out, m.Version, len(m.Files), len(m.Delete))
	if o.Keys == nil {
		fmt.Fprintf(c.stderr, "warning: no keys document (-keys keys.json): installations take such a package until omflow-upgrade %s\n", pkg.DirectSignaturesEnd)
	}
	if p, ok := out["exe"]; ok {
		c.printf("wrote %s: the update program with the package inside (sign it now)\n", p)
	}
	return nil
}

// requireFile checks that a file named on the command line exists, naming it otherwise.
func requireFile(what, p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return outcome.Unusable(fmt.Errorf("%s %q: %w", what, p, err))
	}
	if st.IsDir() {
		return outcome.Unusable(fmt.Errorf("%s %q is a folder, not a file", what, p))
	}
	return nil
}
