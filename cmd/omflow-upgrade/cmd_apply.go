package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/elevate"
	"omflow-upgrade/upgrade/outcome"
)

// printReport prints a report as one JSON object, adding error and exit when err is set.
func (c *cli) printReport(report any, err error) error {
	b, merr := mergeJSON(report, map[string]any{"exit": outcome.ExitCode(err)}, err)
	if merr != nil {
		return merr
	}
	_, werr := c.stdout.Write(append(b, '\n'))
	return werr
}

func runApply(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	var f installFlags
	f.register(fs, true)
	accept := fs.Bool("accept-license", false, "accept the update's license (required: there is no one to ask)")
	choice := configFlag(fs)
	dbBackedUp := fs.Bool("db-backed-up", false, "the database, which is not SQLite, has been backed up by other means")
	wheels := fs.String("wheels", "", "folder of wheels for an update that moves OMFLOW to a new Python (offline install)")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	rest, err := c.parse(fs, args, 1, 1, "PACKAGE or PKGDIR")
	if err != nil {
		return err
	}
	if err := requireAdministrator(); err != nil {
		return err
	}
	if !*accept {
		return usageError("-accept-license is required: read the license (check shows it) and accept it with -accept-license")
	}
	s, err := f.open(ctx, c)
	st, serr := os.Stat(rest[0])
	folder := serr == nil && st.IsDir()
	if !folder {
		if ferr := requireFile("package", rest[0]); ferr != nil {
			return ferr
		}
	}
	if err != nil {
		return err
	}
	prog := c.progress()
	s = s.With(func(o *upgrade.Options) {
		o.ConfigChoice, o.DBBackedUp, o.Wheels = string(*choice), *dbBackedUp, *wheels
		o.Progress = prog
	})
	if folder {
		return applyChain(ctx, c, s, rest[0])
	}
	rep, err := s.Apply(ctx, rest[0])
	closeProgress(prog)
	if rep == nil {
		return err
	}
	rep.Log = c.log.Path
	return c.emit(rep, err, func() {
		if err != nil {
			return
		}
		c.printf("OMFLOW %s -> %s: done\nOMFLOW did not answer for %s\n", rep.From, rep.Version, rep.Downtime.Round(time.Millisecond))
		for _, cr := range rep.Config {
			c.printf("  %-10s %s\n", cr.Result, filepath.FromSlash(cr.Path))
		}
		if rep.Database != nil {
			c.printf("%s\n", rep.Database.Summary())
		}
		c.printf("backup: %s\nlog: %s\n", rep.Backup, rep.Log)
	})
}

func runRollback(ctx context.Context, c *cli, args []string) error {
	return runRun(ctx, c, args, (*upgrade.Session).Rollback)
}

func runRecover(ctx context.Context, c *cli, args []string) error {
	return runRun(ctx, c, args, (*upgrade.Session).Recover)
}

// runRun is rollback and recover: no argument, one report. rollback also takes what to
// do with a database the site has written to since the update.
func runRun(ctx context.Context, c *cli, args []string, op func(*upgrade.Session, context.Context) (*upgrade.RunReport, error)) error {
	fs := c.flags()
	var f installFlags
	f.register(fs, false)
	var filesOnly, discard *bool
	if c.name == "rollback" {
		filesOnly = fs.Bool("files-only", false, "when the site has written to its database since the update: the previous version's files with today's database")
		discard = fs.Bool("discard-data", false, "when the site has written to its database since the update: the database of before the update back, today's kept beside it")
	}
	fs.BoolVar(&c.json, "json", false, "print JSON")
	if _, err := c.parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if err := requireAdministrator(); err != nil {
		return err
	}
	s, err := f.open(ctx, c)
	var data upgrade.DataChoice
	switch {
	case filesOnly == nil:
	case *filesOnly && *discard:
		return usageError("-files-only and -discard-data exclude each other: choose one")
	case *filesOnly:
		data = upgrade.DataFilesOnly
	case *discard:
		data = upgrade.DataDiscard
	}
	if err != nil {
		return err
	}
	prog := c.progress()
	rep, err := op(s.With(func(o *upgrade.Options) { o.RollbackData, o.Progress = data, prog }), ctx)
	closeProgress(prog)
	if rep == nil {
		return err
	}
	rep.Log = c.log.Path
	return c.emit(rep, err, func() {
		if err != nil {
			return
		}
		switch rep.Action {
		case "none":
			c.printf("nothing to %s: OMFLOW %s\n", c.name, rep.Version)
		case "finished":
			c.printf("the interrupted update %s -> %s was finished: OMFLOW %s runs\n", rep.From, rep.To, rep.Version)
		default:
			c.printf("rolled back %s -> %s: OMFLOW %s runs\n", rep.From, rep.To, rep.Version)
		}
		switch rep.Database {
		case string(upgrade.DataFilesOnly):
			c.printf("the database is today's, kept with the previous version's files\n")
		case string(upgrade.DataDiscard):
			c.printf("the database of before the update is back; today's is kept as %s\n", filepath.FromSlash(rep.DatabaseKept))
		}
		c.printf("log: %s\n", rep.Log)
	})
}

// applyChain applies the plan over a folder of packages, hop by hop.
func applyChain(ctx context.Context, c *cli, s *upgrade.Session, dir string) error {
	r, err := s.ApplyChain(ctx, dir, "")
	closeProgress(s.Options().Progress)
	if r == nil {
		return err
	}
	r.Log = c.log.Path
	return c.emit(r, err, func() {
		prev := r.Installed
		for _, h := range r.Hops {
			mark := "done"
			if !h.OK {
				mark = "FAILED, rolled back"
			}
			c.printf("%s -> %s: %s (log %s)\n", prev, h.Version, mark, h.Log)
			prev = h.Version
		}
		switch {
		case err != nil:
			c.printf("stopped at OMFLOW %s\n", r.Version)
		case len(r.Hops) == 0:
			c.printf("already at %s: nothing to do\n", r.Version)
		default:
			c.printf("OMFLOW %s\nlog: %s\n", r.Version, r.Log)
		}
	})
}

// requireAdministrator refuses, on Windows, a run that changes the installation without
// administrator rights, saying how to get them (on Linux the preflight says which folder
// cannot be written).
func requireAdministrator() error {
	if runtime.GOOS != "windows" {
		return nil
	}
	return elevate.Require(elevate.Current(), runtime.GOOS, nil)
}
