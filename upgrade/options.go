// Package upgrade holds the operations that the command line and the wizard run on an
// OMFLOW installation: check an update package, apply it as one transaction, roll it
// back, recover an interrupted run, report status. Everything below it is headless; it
// never imports Fyne and never formats for a screen.
package upgrade

import (
	"context"
	"fmt"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/runlog"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/trust"
)

// Options are what every operation on an installation needs.
type Options struct {
	Root     string
	Override install.Config // flags; win over omflow-upgrade.json
	// PublicKey is the minisign public key file of the trusted root (keys documents), and
	// of the release key a package without a keys document must be signed with; empty
	// means the program's own root and release key.
	PublicKey string
	// AllowUnsigned accepts unsigned or tampered packages and legacy patches.
	AllowUnsigned bool
	// ConfigChoice settles config conflicts: "", "keep" or "new" (SPEC 4.8).
	ConfigChoice string
	// DBBackedUp says the administrator has backed up a database our backup cannot hold.
	DBBackedUp bool
	// RollbackData says what rollback does with a database the site has written to
	// since the update (SPEC 4.9); the default refuses.
	RollbackData DataChoice
	// Wheels is a folder of wheels to install Python packages from, offline; empty
	// installs them from the package index.
	Wheels string
	// Log is the run's log; nil discards.
	Log *runlog.Log
	// Progress hears about long work; nil is NoProgress.
	Progress Progress
	// Services overrides the service manager (tests, Windows); nil picks the
	// installation's own.
	Services svc.Manager
	// Hook, for crash tests, is called at named points of a run: the file transaction's
	// (see txn.Options.Hook) and "stopped", "started", "healthy", "version-written".
	Hook func(point string, i int)
}

func (o *Options) hook(point string, i int) {
	if o.Hook != nil {
		o.Hook(point, i)
	}
}

func (o *Options) logf(format string, args ...any) { o.Log.Logf(format, args...) }

func (o *Options) progress() Progress {
	if o.Progress == nil {
		return NoProgress{}
	}
	return o.Progress
}

// Progress hears about long work. Implementations must be safe from any goroutine.
type Progress interface {
	// Step says a new step begins (stable names: see the Step constants).
	Step(name string)
	// Bytes reports the work of the current step done so far out of total.
	Bytes(done, total int64)
	// Logf is one line of the live log.
	Logf(format string, args ...any)
	// Hop says that step i (from 1) of a chain of n begins: the update to version, whose
	// own log is log.
	Hop(i, n int, version, log string)
	// Line is one line of the run's log (and of a chain step's own log) as the file
	// has it, once it is written.
	Line(line string)
}

// NoProgress discards everything.
type NoProgress struct{}

func (NoProgress) Step(string)                  {}
func (NoProgress) Bytes(int64, int64)           {}
func (NoProgress) Logf(string, ...any)          {}
func (NoProgress) Hop(int, int, string, string) {}
func (NoProgress) Line(string)                  {}

var _ Progress = NoProgress{}

// Step names of an update, in order.
const (
	StepPreflight = "preflight"
	StepStage     = "stage"
	StepBackup    = "backup"
	StepStop      = "stop-service"
	// StepPythonPrepare makes the new Python environment, before the stop.
	StepPythonPrepare = "python-prepare"
	StepApply         = "apply"
	StepPython        = "python"
	StepSchema        = "schema"
	StepMigrate       = "migrate"
	StepStart         = "start-service"
	StepHealth        = "health-check"
	StepVersion       = "version-file"
	StepCommit        = "commit"
	StepRollback      = "rollback"
)

// keys loads the trusted public key.
func (o *Options) keys() ([]minisign.PublicKey, error) {
	if o.PublicKey == "" {
		return nil, nil
	}
	k, err := pkg.LoadPublicKey(o.PublicKey)
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("public key %q: %w", o.PublicKey, err))
	}
	return []minisign.PublicKey{k}, nil
}

// openPackage reads and verifies a package without writing anything, against the keys
// document the installation keeps (kept, nil when none). headOnly verifies the signed
// manifest alone, for a caller that extracts right after (Extract checks the payload as
// it writes it).
func (o *Options) openPackage(ctx context.Context, kept *trust.Signed, path string, headOnly bool) (*pkg.Package, error) {
	keys, err := o.keys()
	if err != nil {
		return nil, err
	}
	p, err := pkg.Open(ctx, path, pkg.Options{Keys: keys, Roots: keys, Kept: kept, AllowUnsigned: o.AllowUnsigned, Logf: o.logf, HeadOnly: headOnly})
	if err != nil {
		return nil, err
	}
	o.logf("package %s: OMFLOW %s, signature %s %s", path, p.Version(), p.Signature, p.KeyID)
	return p, nil
}

// keptKeys reads the keys document the installation keeps (nil when none).
func (o *Options) keptKeys(in *install.Installation) (*trust.Signed, error) {
	kept, err := trust.LoadKept(in.StateDir())
	if err != nil {
		return nil, outcome.Unusable(err)
	}
	if kept != nil {
		o.logf("keys document kept: serial %d, root %s", kept.Doc.Serial, trust.KeyID(kept.Doc.RootKey().ID()))
	}
	return kept, nil
}

// services is the installation's service manager.
func (o *Options) services(in *install.Installation) svc.Manager {
	if o.Services != nil {
		return o.Services
	}
	return platformServices(in, o.Log)
}
