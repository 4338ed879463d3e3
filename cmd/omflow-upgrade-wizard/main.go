// Command omflow-upgrade-wizard is the OMFLOW Upgrade Wizard: the Fyne GUI that takes an
// administrator through an OMFLOW update in six screens (language, license,
// compatibility check, update, Python packages when needed, restart).
//
//	omflow-upgrade-wizard [-root DIR] [-pubkey FILE] [-allow-unsigned] [-demo] [PACKAGE]
//
// The package is the argument, else a file beside the program named
// omflow_update_*.tar.gz or .zip, else the one the user chooses. -demo makes a demo
// installation and a signed demo package in a temporary folder and runs the wizard on
// them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2"

	"omflow-upgrade/app"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/elevate"
)

// appID matches FyneApp.toml and the .desktop file.
const appID = "com.omflow.upgrade"

func main() {
	// The demo installation's service is this program started again.
	if demo.Main(os.Args) {
		return
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("omflow-upgrade-wizard", flag.ContinueOnError)
	root := fs.String("root", "", "the OMFLOW installation (default: the platform's)")
	pubkey := fs.String("pubkey", "", "minisign public key file packages must be signed with (default: the built-in release key)")
	allowUnsigned := fs.Bool("allow-unsigned", false, "accept unsigned packages")
	demoRun := fs.Bool("demo", false, "make a demo installation ("+app.DemoInstalled+") and a signed demo package ("+app.DemoUpdate+") in a temporary folder and update it")
	lang := fs.String("lang", "", "language: en, zh-Hant, zh-Hans or ja (default: the system's)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: omflow-upgrade-wizard [-root DIR] [-pubkey FILE] [-allow-unsigned] [-demo] [PACKAGE]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	cfg := app.Config{Root: *root, PublicKey: *pubkey, AllowUnsigned: *allowUnsigned, Language: *lang,
		Package: fs.Arg(0)}

	if *demoRun {
		dir, err := os.MkdirTemp("", "omflow-upgrade-demo-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "omflow-upgrade-wizard: demo:", err)
			return 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		d, err := app.NewDemo(ctx, dir, app.DemoInstalled)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "omflow-upgrade-wizard: demo:", err)
			return 1
		}
		defer d.Stop()
		fmt.Printf("demo installation: %s\ndemo package: %s\n", d.Root, d.Package)
		cfg.Root, cfg.PublicKey, cfg.Package = d.Root, d.PublicKey, d.Package
	} else {
		// The upgrade changes files only root (or an administrator) may change.
		cfg.Elevation = elevate.Current()
		if runtime.GOOS == "linux" {
			cfg.Relaunch = elevate.Relaunch()
		}
		if cfg.Package == "" {
			cfg.Package = besideProgram()
		}
	}

	a := fyneapp.NewWithID(appID)
	a.Settings().SetTheme(app.Theme())
	w := a.NewWindow("OMFLOW")
	cfg.Quit = a.Quit
	wz := app.New(w, cfg)
	w.SetContent(wz.Content())
	w.Resize(fyne.NewSize(960, 660))
	w.CenterOnScreen()
	w.ShowAndRun()
	return 0
}

// besideProgram is the newest-named update package in the program's folder, or "".
func besideProgram() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	dir := filepath.Dir(exe)
	var found []string
	for _, pattern := range []string{"omflow_update_*.tar.gz", "omflow_update_*.zip"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		found = append(found, m...)
	}
	if len(found) == 0 {
		return ""
	}
	sort.Strings(found)
	return found[len(found)-1]
}
