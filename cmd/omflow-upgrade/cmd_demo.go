package main

import (
	"context"

	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

func runDemo(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	root := fs.String("root", "", "folder for the demo installation (new or empty)")
	ver := fs.String("version", "", "installed version, a.b.c.d")
	port := fs.Int("port", 0, "loopback port of the demo service (0 picks a free one)")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	if _, err := c.parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *root == "" || *ver == "" {
		return usageError("-root DIR and -version V are required")
	}
	v, err := version.Parse(*ver)
	if err != nil {
		return outcome.Unusable(err)
	}
	if *port < 0 || *port > 65535 {
		return usageError("-port %d is not a port number (0 to 65535)", *port)
	}
	log := c.openLog("")
	res, err := demo.Create(ctx, demo.Options{Root: *root, Version: v, Port: *port, Logf: log.Logf})
	if err != nil {
		return err
	}
	log.Logf("demo: OMFLOW %s at %s, service on %s", v, res.Root, res.HealthURL)
	if c.json {
		out := map[string]any{"ok": true, "root": res.Root, "version": v.String(), "port": res.Port, "url": res.HealthURL, "log": log.Path}
		if res.Service != "" {
			out["service"] = res.Service
		}
		return c.printJSON(out)
	}
	if res.Service != "" {
		c.printf("demo installation of OMFLOW %s at %s\nservice running: %s\nWindows service: %s (sc query %s)\n",
			v, res.Root, res.HealthURL, res.Service, res.Service)
		return nil
	}
	c.printf("demo installation of OMFLOW %s at %s\nservice running: %s\ncontrol script: %s/server/omflow_server {status|start|stop}\n",
		v, res.Root, res.HealthURL, res.Root)
	return nil
}
