package main

import (
	"context"
	"runtime"

	"omflow-upgrade/upgrade/pyenv"
)

func runPydiff(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	oldPath := fs.String("old", "", "the old Python: an interpreter or a site-packages folder")
	newPath := fs.String("new", "", "the new Python: an interpreter or a site-packages folder")
	goos := fs.String("os", runtime.GOOS, "write the install command for this system (linux or windows)")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	if _, err := c.parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *oldPath == "" || *newPath == "" {
		return usageError("-old PATH and -new PATH are required")
	}
	if *goos != "linux" && *goos != "windows" {
		return usageError("-os %q: give linux or windows", *goos)
	}
	log := c.openLog("")
	o := pyenv.Options{Logf: log.Logf}
	oldEnv, err := pyenv.Open(ctx, *oldPath, o)
	if err != nil {
		return err
	}
	newEnv, err := pyenv.Open(ctx, *newPath, o)
	if err != nil {
		return err
	}
	r := pyenv.NewReport(oldEnv, newEnv, *goos)
	return c.emit(r, r.Err(), func() {
		c.printf("old: %s (%d packages)\nnew: %s (%d packages)\n", r.Old.Path, r.Old.Packages, r.New.Path, r.New.Packages)
		if len(r.Missing) == 0 {
			c.printf("nothing is missing\n")
			return
		}
		c.printf("missing in the new environment (%d):\n", len(r.Missing))
		for _, p := range r.Missing {
			c.printf("  %s %s\n", p.Name, p.Version)
		}
		c.printf("install them with:\n  %s\n", r.Command)
	})
}
