package main

import (
	"context"

	"omflow-upgrade/upgrade"
)

func runPlan(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	var f installFlags
	f.register(fs, true)
	to := fs.String("to", "", "stop at this version instead of the newest in the folder")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	rest, err := c.parse(fs, args, 1, 1, "PKGDIR")
	if err != nil {
		return err
	}
	s, err := f.open(ctx, c)
	if err != nil {
		return err
	}
	r, err := s.Plan(ctx, rest[0], *to)
	if r == nil {
		return err
	}
	r.Log = c.log.Path
	return c.emit(r, err, func() { printPlan(c, r) })
}

func printPlan(c *cli, r *upgrade.PlanReport) {
	c.printf("OMFLOW %s -> %s\n", r.Installed, r.Target)
	for i, s := range r.Steps {
		c.printf("  %d. %s  %s\n", i+1, s.Version, s.Package)
	}
	switch {
	case r.Reason != "" && r.Requires != "":
		c.printf("no chain (%s): the folder lacks %s\n", r.Reason, r.Requires)
	case r.Reason != "":
		c.printf("no chain (%s)\n", r.Reason)
	case len(r.Steps) == 0:
		c.printf("already at %s: nothing to do\n", r.Target)
	}
	for _, s := range r.Skipped {
		c.printf("  left out: %s: %s\n", s.Package, s.Reason)
	}
	c.printf("log: %s\n", r.Log)
}
