package main

import (
	"context"
	"path/filepath"

	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

func runDemo(ctx context.Context, c *cli, args []string) error {
	fs := c.flags()
	root := fs.String("root", "", "folder for the demo installation (new or empty)")
	ver := fs.String("version", "", "installed version, a.b.c.d")
	port := fs.Int("port", 0, "loopback port of the demo service (0 picks a free one)")
	release := fs.String("real", "", "install this release of OMFLOW itself (omflow-<v>.tar.gz, a server/... tree) and run it with Django's server, instead of the stand-in")
	python := fs.String("python", "", "with -real: the interpreter with Django (default /usr/bin/python3)")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	if _, err := c.parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *release != "" {
		return runDemoReal(ctx, c, *root, *ver, *release, *python, *port)
	}
	if *python != "" {
		return usageError("-python goes with -real")
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

// runDemoReal is demo -real: one of OMFLOW's own releases, laid out as the demo is and
// served by Django. Its version is the release's; -version, when given, must agree.
func runDemoReal(ctx context.Context, c *cli, root, ver, release, python string, port int) error {
	if root == "" {
		return usageError("-root DIR is required")
	}
	var want version.Version
	if ver != "" {
		v, err := version.Parse(ver)
		if err != nil {
			return outcome.Unusable(err)
		}
		want = v
	}
	if port < 0 || port > 65535 {
		return usageError("-port %d is not a port number (0 to 65535)", port)
	}
	log := c.openLog("")
	res, err := demo.CreateReal(ctx, demo.RealOptions{Root: root, Release: release, Python: python, Port: port, Version: want, Logf: log.Logf})
	if err != nil {
		return err
	}
	in, err := install.Detect(res.Root, install.Config{})
	if err != nil {
		return err
	}
	v := in.Version
	serviceLog := filepath.Join(res.Root, demo.RunDirName, demo.ServiceLogName)
	log.Logf("demo: OMFLOW %s (release %s) at %s, service on %s", v, release, res.Root, res.HealthURL)
	if c.json {
		return c.printJSON(map[string]any{"ok": true, "root": res.Root, "version": v.String(), "port": res.Port, "url": res.HealthURL,
			"release": release, "python": in.Python(), "service_log": serviceLog, "log": log.Path})
	}
	c.printf("installation of OMFLOW %s (its own release %s) at %s\nservice running: %s\ncontrol script: %s/server/omflow_server {status|start|stop}\nservice log: %s\n",
		v, filepath.Base(release), res.Root, res.HealthURL, res.Root, serviceLog)
	return nil
}
