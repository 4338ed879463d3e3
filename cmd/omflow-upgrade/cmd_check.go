package main

import (
	"context"
	"errors"
	"flag"
	"path/filepath"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/install"
)

// installFlags are the flags of every command that works on an installation.
type installFlags struct {
	root, pubkey, control, healthURL, python string
	allowUnsigned                            bool
}

func (f *installFlags) register(fs *flag.FlagSet, withKey bool) {
	fs.StringVar(&f.root, "root", install.DefaultRoot(), "OMFLOW installation root")
	fs.StringVar(&f.control, "control", "", "control command (overrides omflow-upgrade.json)")
	fs.StringVar(&f.healthURL, "health-url", "", "URL that answers 200 when OMFLOW runs (overrides omflow-upgrade.json)")
	fs.StringVar(&f.python, "python", "", "interpreter that runs manage.py (overrides omflow-upgrade.json)")
	if withKey {
		fs.StringVar(&f.pubkey, "pubkey", "", "the trusted root key (keys documents), also the release key of a package without one (default: the program's own)")
		fs.BoolVar(&f.allowUnsigned, "allow-unsigned", false, "accept unsigned or tampered packages and legacy patch.sh tarballs (dangerous)")
	}
}

// open finds the installation and opens the run's log under its logs/ (or the temp
// folder when there is none). The error is the installation's: the caller returns it
// where the operation would run, after its own checks of the arguments.
func (f *installFlags) open(ctx context.Context, c *cli) (*upgrade.Session, error) {
	o := upgrade.Options{Root: f.root, PublicKey: f.pubkey, AllowUnsigned: f.allowUnsigned, Hook: testHook}
	if f.control != "" {
		o.Override.Control = []string{f.control}
	}
	o.Override.HealthURL = f.healthURL
	o.Override.Python = f.python
	s, err := upgrade.Open(ctx, o)
	logDir := ""
	if err == nil {
		logDir = s.Installation().LogsDir()
	}
	log := c.openLog(logDir)
	if err != nil {
		return nil, err
	}
	return s.With(func(o *upgrade.Options) { o.Log = log }), nil
}

// testHook is set by the crash tests only (they run this program's code in a child
// process that kills itself at a named point).
var testHook func(point string, i int)

func runCheck(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	var f installFlags
	f.register(fs, true)
	files := fs.Bool("files", false, "also list every file the update adds, replaces or deletes")
	choice := configFlag(fs)
	fs.BoolVar(&c.json, "json", false, "print JSON")
	rest, err := c.parse(fs, args, 1, 1, "PACKAGE")
	if err != nil {
		return err
	}
	s, err := f.open(ctx, c)
	if ferr := requireFile("package", rest[0]); ferr != nil {
		return ferr
	}
	if err != nil {
		return err
	}
	s = s.With(func(o *upgrade.Options) { o.ConfigChoice = string(*choice) })
	r, err := s.Check(ctx, rest[0], *files)
	if r == nil {
		return err
	}
	r.Log = c.log.Path
	return c.emit(r, err, func() { printCheck(c, r, *files) })
}

// configChoice is -config: how to settle config conflicts, checked as it is parsed.
type configChoice string

func (c *configChoice) String() string { return string(*c) }

func (c *configChoice) Set(v string) error {
	if v != "keep" && v != "new" {
		return errors.New("give keep (your edited files stay) or new (the package's files go in)")
	}
	*c = configChoice(v)
	return nil
}

// configFlag registers -config on fs.
func configFlag(fs *flag.FlagSet) *configChoice {
	c := new(configChoice)
	fs.Var(c, "config", "settle config conflicts: keep (yours stays) or new (the package's goes in)")
	return c
}

func printCheck(c *cli, r *upgrade.CheckReport, files bool) {
	update := r.Update
	if r.Package != nil && r.Package.Legacy != nil {
		update = r.Package.Legacy.Display()
	}
	c.printf("OMFLOW %s at %s -> update %s\n", r.Installed, r.Root, update)
	for _, ch := range r.Checks {
		mark := "ok  "
		switch {
		case !ch.OK:
			mark = "FAIL"
		case ch.Warning:
			mark = "warn"
		}
		c.printf("  [%s] %-12s %s\n", mark, ch.Name, ch.Message)
	}
	if files {
		var total int64
		for _, fa := range r.Files {
			c.printf("  %-8s %10d  %s\n", fa.Action, fa.Size, filepath.FromSlash(fa.Path))
			if fa.Action != "delete" {
				total += fa.Size
			}
		}
		c.printf("  %d files, %d bytes written\n", len(r.Files), total)
	}
	if r.Allowed {
		c.printf("allowed (%s)\n", r.Reason)
	} else if r.Requires != "" {
		c.printf("refused (%s): install %s first\n", r.Reason, r.Requires)
	} else {
		c.printf("refused (%s)\n", r.Reason)
	}
	c.printf("log: %s\n", r.Log)
}

func runStatus(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	var f installFlags
	f.register(fs, false)
	fs.BoolVar(&c.json, "json", false, "print JSON")
	if _, err := c.parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	s, err := f.open(ctx, c)
	if err != nil {
		return err
	}
	r, err := s.Status(ctx)
	if err != nil {
		return err
	}
	r.Log = c.log.Path
	if c.json {
		return c.printJSON(r)
	}
	c.printf("OMFLOW %s at %s\nservice: %s, healthy: %v (%s)\n", r.Version, r.Root, r.Service, r.Healthy, r.Health)
	if r.Pending != nil {
		c.printf("INTERRUPTED RUN: %s -> %s stopped at %s; run omflow-upgrade recover -root %s\n", r.Pending.From, r.Pending.To, r.Pending.Phase, r.Root)
	}
	if r.Lock != "" {
		c.printf("an upgrade run holds the installation: %s\n", r.Lock)
	}
	if r.Fenced {
		c.printf("the service's automatic start is disabled until the interrupted run is recovered\n")
	}
	for _, b := range r.Backups {
		c.printf("backup %s: %s -> %s at %s (%s)\n", b.ID, b.From, b.To, b.Time.Format("2006-01-02 15:04"), b.Path)
	}
	if len(r.Backups) == 0 {
		c.printf("no backups kept\n")
	}
	c.printf("log: %s\n", r.Log)
	return nil
}
