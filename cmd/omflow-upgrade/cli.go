package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/runlog"
)

// command is one subcommand.
type command struct {
	usage string // flags and arguments, after the command's name
	about string
	run   func(ctx context.Context, c *cli, args []string) error
}

var commands = map[string]command{
	"keygen": {"[-root] -out DIR", "make a minisign key pair DIR/omflow-upgrade.pub and .key (-root: the offline root key, omflow-upgrade-root.pub and .key)", runKeygen},
	"keys":   {keysUsage, "write the keys document the root signs: release keys, revocations, version floor", runKeys},
	"pack": {"-key KEYFILE -version V [-keys keys.json] [-from A.B.C] [-python X.Y] [-license-dir DIR] [-delete LISTFILE] [-config LISTFILE] [-data LISTFILE] [-base OLDDIR] [-exe WIZARD.exe] -out FILE.tar.gz SRCDIR",
		"build and sign an update package from a folder", runPack},
	"demo":   {"-root DIR -version V [-port N] [-real omflow-V.tar.gz [-python P]]", "make a stand-in installation (or one of OMFLOW's own releases, -real) and start its service", runDemo},
	"check":  {"-root DIR [-pubkey ROOT.pub] [-files] [-config keep|new] [-json] PACKAGE", "check whether the installation can take a package (read-only)", runCheck},
	"status": {"-root DIR [-json]", "show version, service, health, interrupted run and backups", runStatus},
	"apply": {"-root DIR [-pubkey ROOT.pub] -accept-license [-config keep|new] [-db-backed-up] [-json] PACKAGE|PKGDIR",
		"apply an update as one transaction: backup, stop, apply, start, health check, automatic rollback", runApply},
	"plan":     {"-root DIR [-pubkey ROOT.pub] [-to V] [-json] PKGDIR", "work out the chain of updates from the installed version over a folder of packages (read-only)", runPlan},
	"rollback": {"-root DIR [-files-only|-discard-data] [-json]", "undo the last applied update not yet undone", runRollback},
	"recover":  {"-root DIR [-json]", "finish or undo an interrupted run", runRecover},
	"pydiff":   {"-old PATH -new PATH [-json]", "list the Python packages the new environment lacks (PATH: an interpreter or a site-packages folder)", runPydiff},
}

// cli is one run of the program.
type cli struct {
	name           string // the command
	usage          string // its flags and arguments
	stdout, stderr io.Writer
	json           bool
	log            *runlog.Log
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return outcome.ExitUnusable
		}
		return outcome.ExitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "omflow-upgrade: unknown command %q; run omflow-upgrade -h for the list\n", args[0])
		return outcome.ExitUnusable
	}
	c := &cli{name: args[0], usage: cmd.usage, stdout: stdout, stderr: stderr}
	err := cmd.run(ctx, c, args[1:])
	defer c.log.Close()
	if err == nil {
		return outcome.ExitOK
	}
	return c.fail(err)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: omflow-upgrade COMMAND [flags] [argument]")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n           %s %s\n", n, commands[n].about, n, commands[n].usage)
	}
	fmt.Fprintln(w, "exit codes: 0 done/allowed, 1 internal error, 2 unusable input, 3 refused, 4 failed and rolled back, 5 rollback failed")
}

// usageError is a command line that cannot be used.
func usageError(format string, args ...any) error {
	return outcome.Unusable(fmt.Errorf(format, args...))
}

// flags makes the command's flag set; errors are returned, not printed.
func (c *cli) flags() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses the flags and returns the positional arguments, at most max of them and
// at least min.
func (c *cli) parse(fs *flag.FlagSet, args []string, min, max int, what string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, usageError("usage: omflow-upgrade %s %s", c.name, c.usage)
		}
		return nil, usageError("%v (usage: omflow-upgrade %s %s)", err, c.name, c.usage)
	}
	rest := fs.Args()
	if len(rest) < min {
		return nil, usageError("missing %s (usage: omflow-upgrade %s %s)", what, c.name, c.usage)
	}
	if len(rest) > max {
		extra := rest[max:]
		hint := ""
		if strings.HasPrefix(extra[0], "-") {
			hint = "; flags come before the " + what
		}
		return nil, usageError("unexpected argument %q%s (usage: omflow-upgrade %s %s)", extra[0], hint, c.name, c.usage)
	}
	return rest, nil
}

// openLog starts the run's log in dir (the installation's logs/ folder, or "" for the
// system temporary folder).
func (c *cli) openLog(dir string) *runlog.Log {
	if c.log == nil {
		c.log = runlog.Open(dir, c.name)
		if dir != "" && readOnlyCommands[c.name] {
			if n := runlog.Prune(dir, []string{c.name}, keepReadOnlyLogs); n > 0 {
				c.log.Logf("removed %d older %s logs (the newest %d are kept)", n, c.name, keepReadOnlyLogs)
			}
		}
	}
	return c.log
}

// readOnlyCommands are those whose logs are pruned to the newest keepReadOnlyLogs: they
// change nothing, and monitoring runs them often. Logs of runs that change something
// are all kept.
var readOnlyCommands = map[string]bool{"check": true, "plan": true, "status": true}

const keepReadOnlyLogs = 20

// printJSON writes v as one JSON object on stdout.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printf writes human text on stdout.
func (c *cli) printf(format string, args ...any) { fmt.Fprintf(c.stdout, format, args...) }

// fail reports err and returns the exit code. With -json, the error is also one JSON
// object on stdout (unless the command already printed its report).
func (c *cli) fail(err error) int {
	code := outcome.ExitCode(err)
	var printed *reported
	alreadyPrinted := errors.As(err, &printed)
	logPath := ""
	if c.log == nil {
		c.openLog("")
	}
	var refused *outcome.RefusedError
	if errors.As(err, &refused) {
		c.log.Logf("error (exit %d, reason %s): %v", code, refused.Reason, err)
	} else {
		c.log.Logf("error (exit %d): %v", code, err)
	}
	logPath = c.log.Path
	if c.json && !alreadyPrinted {
		out := map[string]any{"ok": false, "error": err.Error(), "exit": code, "log": logPath}
		if refused != nil {
			out["reason"] = refused.Reason
			if refused.Requires != "" {
				out["requires"] = refused.Requires
			}
		}
		c.printJSON(out)
	}
	fmt.Fprintf(c.stderr, "omflow-upgrade %s: %v\n", c.name, err)
	if logPath != "" {
		fmt.Fprintf(c.stderr, "log: %s\n", logPath)
	}
	return code
}

// reported wraps an error whose report the command has already printed.
type reported struct{ err error }

func (r *reported) Error() string { return r.err.Error() }
func (r *reported) Unwrap() error { return r.err }
