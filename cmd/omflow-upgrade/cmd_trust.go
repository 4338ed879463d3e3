package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/trust"
)

const keysUsage = "init -root-key ROOT.key -add REL.pub [-expires DAYS] [-min-version V] -out keys.json | " +
	"rotate -root-key ROOT.key -in keys.json -out keys.json [-add NEW.pub] [-revoke OLD.pub] [-revoke-package FILE.tar.gz] [-min-version V] [-expires DAYS] [-new-root-key NEWROOT.key | -cross-root-key OLDROOT.key]"

// runKeys writes the keys document: keys init (serial 1) and keys rotate (serial + 1).
func runKeys(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || (args[0] != "init" && args[0] != "rotate") {
		return usageError("give init or rotate (usage: omflow-upgrade keys %s)", keysUsage)
	}
	rotate := args[0] == "rotate"
	fs := c.flags()
	rootKey := fs.String("root-key", "", "the root's secret key (keygen -root)")
	in := fs.String("in", "", "the current keys document (rotate)")
	out := fs.String("out", "", "the keys document to write (and .minisig beside it)")
	var add, revoke, revokePkg listFlag
	fs.Var(&add, "add", "release public key to trust (repeatable)")
	minVersion := fs.String("min-version", "", "lowest version installations may take (never goes down)")
	expires := fs.Int("expires", 0, "days the added keys are trusted (default 365); with no -add, renews every key")
	newRoot, crossRoot := "", ""
	if rotate {
		fs.Var(&revoke, "revoke", "release public key to revoke (repeatable)")
		fs.Var(&revokePkg, "revoke-package", "package file never to install again (repeatable)")
		fs.StringVar(&newRoot, "new-root-key", "", "rotate the root: the document is signed by this new root and by -root-key")
		fs.StringVar(&crossRoot, "cross-root-key", "", "after a root rotation: also sign with the replaced root, for installations that have not followed yet")
	}
	fs.BoolVar(&c.json, "json", false, "print JSON")
	if _, err := c.parse(fs, args[1:], 0, 0, ""); err != nil {
		return err
	}
	switch {
	case *rootKey == "":
		return usageError("-root-key ROOT.key is required")
	case *out == "":
		return usageError("-out keys.json is required")
	case rotate && *in == "":
		return usageError("-in keys.json is required")
	case *expires < 0:
		return usageError("-expires %d: give a number of days, 1 or more", *expires)
	}
	log := c.openLog("")
	password := os.Getenv("OMFLOW_UPGRADE_KEY_PASSWORD")
	root, err := pkg.LoadPrivateKey(*rootKey, password)
	if err != nil {
		return outcome.Unusable(err)
	}
	ch := trust.Change{MinVersion: *minVersion, Expires: time.Duration(*expires) * 24 * time.Hour, Now: time.Now()}
	if ch.Add, err = loadPublicKeys(add); err != nil {
		return err
	}
	if ch.Revoke, err = loadPublicKeys(revoke); err != nil {
		return err
	}
	for _, f := range revokePkg {
		_, sum, err := pkg.HashFile(f)
		if err != nil {
			return outcome.Unusable(fmt.Errorf("-revoke-package %q: %w", f, err))
		}
		ch.RevokePackages = append(ch.RevokePackages, sum)
	}
	if newRoot != "" {
		k, err := pkg.LoadPrivateKey(newRoot, os.Getenv("OMFLOW_UPGRADE_NEW_ROOT_PASSWORD"))
		if err != nil {
			return outcome.Unusable(err)
		}
		ch.NewRoot = &k
	}
	if crossRoot != "" {
		k, err := pkg.LoadPrivateKey(crossRoot, os.Getenv("OMFLOW_UPGRADE_CROSS_ROOT_PASSWORD"))
		if err != nil {
			return outcome.Unusable(err)
		}
		ch.CrossRoot = &k
	}
	var s *trust.Signed
	if rotate {
		prev, err := trust.ReadFiles(*in)
		if err != nil {
			return outcome.Unusable(fmt.Errorf("-in: %w", err))
		}
		s, err = trust.Rotate(prev, root, ch)
		if err != nil {
			return outcome.Unusable(fmt.Errorf("keys rotate %q: %w", *in, err))
		}
	} else if s, err = trust.Init(root, ch); err != nil {
		return outcome.Unusable(fmt.Errorf("keys init: %w", err))
	}
	if err := s.WriteFiles(*out); err != nil {
		return err
	}
	d := s.Doc
	ids := make([]string, len(d.Keys))
	for i, k := range d.Keys {
		ids[i] = k.ID + " until " + k.NotAfter
	}
	log.Logf("%s: wrote %s serial %d, root %s, keys %s, revoked keys %v, revoked packages %d, min version %q",
		"keys "+args[0], *out, d.Serial, trust.KeyID(d.RootKey().ID()), strings.Join(ids, ", "), d.RevokedKeys, len(d.RevokedPackages), d.MinVersion)
	if c.json {
		return c.printJSON(map[string]any{"ok": true, "keys": *out, "serial": d.Serial, "root": trust.KeyID(d.RootKey().ID()),
			"cross_signed": s.Cross != nil, "log": log.Path})
	}
	c.printf("wrote %s (serial %d, signed by root %s", *out, d.Serial, trust.KeyID(d.RootKey().ID()))
	if prev, ok := d.PreviousRootKey(); ok {
		c.printf(" and by the previous root %s", trust.KeyID(prev.ID()))
	}
	c.printf(")\nrelease keys: %s\n", strings.Join(ids, ", "))
	if len(d.RevokedKeys) > 0 {
		c.printf("revoked keys: %s\n", strings.Join(d.RevokedKeys, ", "))
	}
	if len(d.RevokedPackages) > 0 {
		c.printf("revoked packages: %d\n", len(d.RevokedPackages))
	}
	if d.MinVersion != "" {
		c.printf("lowest version taken: %s\n", d.MinVersion)
	}
	c.printf("log: %s\n", log.Path)
	return nil
}

// listFlag is a flag given any number of times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func loadPublicKeys(files []string) ([]minisign.PublicKey, error) {
	var keys []minisign.PublicKey
	for _, f := range files {
		k, err := pkg.LoadPublicKey(f)
		if err != nil {
			return nil, outcome.Unusable(err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
