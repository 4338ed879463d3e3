// Command omflow-upgrade-wizard is the OMFLOW Upgrade Wizard: the Fyne GUI that takes an
// administrator through an OMFLOW update in six screens (language, license,
// compatibility check, update, Python packages when needed, restart).
//
//	omflow-upgrade-wizard [-root DIR] [-pubkey FILE] [-allow-unsigned] [-wheels DIR] [-lang CODE] [-demo | -real DIR] [PACKAGE]
//
// The package is the argument, else a file beside the program named
// omflow_update_*.tar.gz or .zip, else the one the user chooses. -demo makes a demo
// installation and a signed demo package in a temporary folder and runs the wizard on
// them; -real DIR does the same with OMFLOW's own releases 1.0.0.1 and 1.1.0.0 from DIR.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"omflow-upgrade/app"
	"omflow-upgrade/assets"
	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/bundle"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/elevate"
	"omflow-upgrade/wizard"
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
	pubkey := fs.String("pubkey", "", "the trusted root key (keys documents), also the release key of a package without one (default: the program's own)")
	allowUnsigned := fs.Bool("allow-unsigned", false, "accept unsigned packages")
	demoRun := fs.Bool("demo", false, "make a demo installation ("+demo.KitInstalled+") and a signed demo package ("+demo.KitUpdate+") in a temporary folder and update it")
	wheels := fs.String("wheels", "", "folder of wheels to install the new Python's packages from, offline (Linux, an update that moves Python)")
	lang := fs.String("lang", "", "language: en, zh-Hant, zh-Hans or ja (default: the system's)")
	real := fs.String("real", "", "like -demo, on OMFLOW's own releases in this folder: its 1.0.0.1 running under Django, updated to its 1.1.0.0")
	var env []string
	fs.Func(elevate.EnvFlag, "NAME=value of the display or locale, carried through pkexec (set by the wizard itself)", func(kv string) error {
		env = append(env, kv)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: omflow-upgrade-wizard [-root DIR] [-pubkey FILE] [-allow-unsigned] [-wheels DIR] [-lang CODE] [-demo | -real DIR] [PACKAGE]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	if err := elevate.ApplyEnv(env); err != nil {
		fmt.Fprintln(os.Stderr, "omflow-upgrade-wizard:", err)
		return 2
	}
	cfg := app.Config{Options: upgrade.Options{Root: *root, PublicKey: *pubkey, AllowUnsigned: *allowUnsigned, Wheels: *wheels},
		Language: *lang, Package: fs.Arg(0)}

	if *demoRun || *real != "" {
		dir, err := os.MkdirTemp("", "omflow-upgrade-demo-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "omflow-upgrade-wizard: demo:", err)
			return 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		var d *demo.Kit
		if *real != "" {
			d, err = demo.NewRealKit(ctx, dir, *real, "1.0.0.1", "1.1.0.0")
		} else {
			d, err = demo.NewKit(ctx, dir, demo.KitInstalled)
		}
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
			p, cleanup := bundledPackage()
			defer cleanup()
			cfg.Package = p
		}
		if cfg.Package == "" {
			if exe, err := os.Executable(); err == nil {
				cfg.Package = app.NewestPackage(filepath.Dir(exe))
			}
		}
	}

	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	a.Settings().SetTheme(app.Theme())
	fonts := app.ReadFonts()
	w := a.NewWindow("OMFLOW")
	w.Resize(fyne.NewSize(960, 660))
	w.CenterOnScreen()
	w.Show() // the window is made (X, OpenGL) while the fonts are read
	cfg.Quit = a.Quit
	// Interrupted from a terminal: leave through the app, so that deferred clean-up (the
	// demo's service) runs.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fyne.Do(a.Quit)
	}()
	cfg.DeferLoad = true
	<-fonts
	wz := app.New(w, cfg)
	w.SetContent(wizard.ReportFirstFrame(wz.Content(), os.Getenv(firstFrameEnv)))
	a.Run()
	return 0
}

// bundledPackage is the package carried inside this program (the self-contained
// omflow_update_A_B_C_D.exe, see upgrade/bundle), written into a private folder that
// cleanup removes; "" when the program carries none.
func bundledPackage() (path string, cleanup func()) {
	e, err := bundle.FindSelf()
	if err != nil {
		if !errors.Is(err, bundle.ErrNotBundled) {
			fmt.Fprintln(os.Stderr, "omflow-upgrade-wizard: the package inside this program:", err)
		}
		return "", func() {}
	}
	dir, err := os.MkdirTemp("", "omflow-upgrade-package-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "omflow-upgrade-wizard: the package inside this program:", err)
		return "", func() {}
	}
	cleanup = func() { os.RemoveAll(dir) }
	p, err := e.Extract(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "omflow-upgrade-wizard: the package inside this program:", err)
		return "", cleanup
	}
	return p, cleanup
}

// firstFrameEnv names a file that gets the time (Unix nanoseconds) when the window has
// drawn its first frame: scripts/bench-wizard.sh measures the start-up with it.
const firstFrameEnv = "OMFLOW_WIZARD_FIRST_FRAME"
