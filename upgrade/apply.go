package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/inuse"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/upgrade/txn"
)

// ApplyReport is what an update did: SPEC 5's apply -json.
type ApplyReport struct {
	OK      bool   `json:"ok"`
	From    string `json:"from"`
	Update  string `json:"update"`
	Version string `json:"version"` // where the installation is now
	Backup  string `json:"backup,omitempty"`
	// Downtime is how long OMFLOW did not answer: from the service's stop to a passed
	// health check.
	Downtime   time.Duration  `json:"-"`
	DowntimeMS int64          `json:"downtime_ms"`
	Files      int            `json:"files"`
	Config     []ConfigResult `json:"config,omitempty"`
	// Database is what the update did to the site's SQLite database (SPEC 4.9).
	Database   *DatabaseReport `json:"database,omitempty"`
	RolledBack bool            `json:"rolled_back"`
	Log        string          `json:"log,omitempty"`
}

// runData is what the journal keeps for the orchestration: enough to finish or undo a run
// after a crash, and to undo it later with rollback.
type runData struct {
	Package     string `json:"package"`
	VersionFile string `json:"version_file"`     // root-relative
	OldVersion  []byte `json:"old_version_file"` // the file's bytes before the run
	NewVersion  string `json:"new_version"`      // what the run writes on success
	Fenced      bool   `json:"fenced,omitempty"` // automatic start disabled
	Legacy      bool   `json:"legacy,omitempty"` // a patch.sh run
	// Python is set once the run starts moving the installation to a new Python.
	Python *pythonData `json:"python,omitempty"`
	// Database is the site's SQLite database (root-relative) and DatabaseSHA256 its
	// hash when the update committed: a later rollback compares them (dataguard.go).
	Database       string `json:"database,omitempty"`
	DatabaseSHA256 string `json:"database_sha256,omitempty"`
}

// phaseHealthy is journaled once the new version has passed its health check: a run
// interrupted after it is finished, not rolled back.
const phaseHealthy = "healthy"

// Apply checks the package as Check does, then applies it as one transaction (SPEC 4.4):
// stage, journal, stop, renames, start, health check, version file, commit. Any failure
// after the first change rolls back and restarts the old service (*outcome.FailedError).
func (s *Session) Apply(ctx context.Context, pkgPath string) (*ApplyReport, error) {
	opt := s.opt
	prog := opt.progress()
	defer s.follow()()
	prog.Step(StepPreflight)
	in := s.begin()
	defer s.settle(in)
	if err := recoverFirst(ctx, &opt, in); err != nil {
		return nil, err
	}
	r, err := check(ctx, opt, in, pkgPath, false, true)
	if r == nil {
		return nil, err
	}
	rep := &ApplyReport{From: r.Installed, Update: r.Update, Version: r.Installed}
	if err != nil {
		return rep, err
	}
	in, p := r.Installation, r.Package
	if err := keepKeys(&opt, in, p); err != nil {
		return rep, err
	}
	a := &applier{runner: runner{opt: &opt, in: in}, p: p, rep: rep, prog: prog}
	if p.Legacy != nil {
		return rep, a.runLegacy(ctx)
	}
	err = a.run(ctx)
	return rep, err
}

// keepKeys stores the package's keys document when it is newer than the one the
// installation keeps: from then on an older one is refused, and a rotated root is the
// only one trusted. It is kept before the update runs, so that a revocation holds even
// when the update then fails and is rolled back.
func keepKeys(opt *Options, in *install.Installation, p *pkg.Package) error {
	v := p.Trust
	if v == nil || !v.Keep || v.Refusal != nil {
		return nil
	}
	if err := trust.Keep(in.StateDir(), v.Doc); err != nil {
		return fmt.Errorf("keep keys document serial %d: %w", v.Doc.Doc.Serial, err)
	}
	opt.logf("keys document serial %d kept in %s", v.Doc.Doc.Serial, trust.StateDir(in.StateDir()))
	return nil
}

// applier is one update in progress.
type applier struct {
	runner
	p    *pkg.Package
	rep  *ApplyReport
	prog Progress
	data runData
	// pkgBase are the base copies of config files the package carries (pack -base);
	// incoming the package's own config files, kept as the record of the update.
	pkgBase, incoming map[string][]byte
	// db is the SQLite database put in the backup; dbCopied its state when copied.
	db       database
	dbCopied os.FileInfo
	// python is the move to a newer Python this update makes, or nil.
	python *pythonMove
	// pre tries the update's database changes on a copy before the stop, and keeps what
	// the site's database then gets.
	pre *dbPreflight
}

// saveData journals the run's data again (after it changed).
func (a *applier) saveData(ctx context.Context) error {
	b, err := json.Marshal(a.data)
	if err != nil {
		return err
	}
	return a.t.SetData(ctx, b)
}

func (a *applier) txnOptions(ctx context.Context, command string) txn.Options {
	need := neededSpace(ctx, a.in, a.p, a.opt.logf)
	a.opt.logf("space the update needs: %s", need)
	return txn.Options{
		Command:   command,
		Keep:      a.in.KeepBackups(),
		NeedBytes: need.total(),
		Logf:      a.opt.logf,
		Progress:  func(done, total int64) { a.prog.Bytes(done, total) },
		Hook:      a.opt.Hook,
	}
}

func (a *applier) run(ctx context.Context) (err error) {
	t, err := txn.Begin(ctx, a.in.StateDir(), a.in.Root, a.txnOptions(ctx, "apply "+a.p.Path))
	if err != nil {
		return err
	}
	a.t = t
	defer func() {
		if cerr := t.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if err := a.stage(ctx); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			// Nothing has changed: the staging folder goes with the run.
			return &outcome.RefusedError{Reason: ReasonDiskSpace, Err: err}
		}
		return err
	}
	work, err := os.MkdirTemp(a.in.StateDir(), ".omflow-upgrade-preflight-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	a.pre = &dbPreflight{opt: a.opt, in: a.in, work: work, python: a.in.Python()}
	ops, err := a.plan()
	if err != nil {
		return err
	}
	a.python = needsPythonMove(ctx, a.in, a.p.Manifest, a.opt.logf)
	if a.python != nil && a.in.Layout == install.Windows {
		if ops, err = a.pointApacheAtPython(ctx, ops, a.python); err != nil {
			return err
		}
	}
	if a.python == nil {
		if err := a.preflightDatabase(ctx, ops); err != nil {
			return err
		}
	}
	a.data = runData{Package: a.p.Path, VersionFile: a.in.Layout.VersionFileRel(), NewVersion: a.p.Manifest.Version}
	if a.data.OldVersion, err = os.ReadFile(a.in.VersionFile()); err != nil {
		return fmt.Errorf("read %q: %w", a.in.VersionFile(), err)
	}
	data, _ := json.Marshal(a.data)
	a.prog.Step(StepBackup)
	if err := t.Prepare(ctx, txn.Plan{From: a.in.Version.String(), To: a.p.Manifest.Version, Ops: ops, Data: data}); err != nil {
		return err
	}
	a.rep.Files = len(ops)
	a.opt.logf("journal written; backup of the %d files replaced or deleted goes to %s", len(ops), t.BackupDir())
	if a.python != nil {
		a.prog.Step(StepPythonPrepare)
		if err := a.preparePython(ctx, a.python); err != nil {
			var failed *outcome.FailedError
			if errors.As(err, &failed) && failed.RolledBack {
				a.rep.RolledBack = true // nothing was changed but what the run undid
			}
			return err
		}
		defer a.dropPreparedPython()
		// The new release's Django is tried with the interpreter it will run on, which
		// exists only now; a refusal still comes before the stop.
		a.pre.python = a.preparedPython(a.python)
		if err := a.preflightDatabase(ctx, ops); err != nil {
			return err
		}
	}

	svcs := a.opt.services(a.in)
	a.prog.Step(StepStop)
	down := time.Now()
	if err := a.serviceCall(ctx, "stop", svcs.Stop); err != nil {
		// Nothing has changed yet: the service is as the stop left it.
		t.Rollback(context.WithoutCancel(ctx), nil)
		a.startChecked(context.WithoutCancel(ctx))
		return &outcome.FailedError{RolledBack: true, Err: fmt.Errorf("stop the OMFLOW service: %w", err)}
	}
	a.opt.hook("stopped", 0)
	if err := a.heldFiles(ctx, ops); err != nil {
		// Nothing has changed yet: the old service starts again and the update is refused.
		t.Rollback(context.WithoutCancel(ctx), nil)
		a.startChecked(context.WithoutCancel(ctx))
		return err
	}
	if a.dbCopied != nil {
		// The service may have written to the database since the copy.
		if err := refreshDatabase(a.in, t.StagingDir(), a.db.path, a.dbCopied); err != nil {
			return a.failed(ctx, fmt.Errorf("copy the database again: %w", err), false)
		}
	}
	a.prog.Step(StepApply)
	if err := t.Apply(ctx); err != nil {
		return a.failed(ctx, err, false)
	}
	if a.python != nil {
		a.prog.Step(StepPython)
		if err := a.movePython(ctx, a.python); err != nil {
			return a.failed(ctx, err, false)
		}
	}
	if a.pre.release != "" && a.dbCopied != nil {
		a.prog.Step(StepSchema)
		c, err := a.pre.reconcile(ctx, abs(a.in, a.db.path), filepath.Join(a.pre.work, "tree", projectRel(a.in)))
		if err != nil {
			return a.failed(ctx, err, false)
		}
		a.opt.logf("database %s brought to the release's schema: %d tables, %d columns, %d indexes added", a.db.path, len(c.Tables), len(c.Columns), len(c.Indexes))
	}
	if a.p.Manifest.TouchesMigrations() {
		a.prog.Step(StepMigrate)
		if err := migrate(ctx, a.opt, a.in, a.prog); err != nil {
			return a.failed(ctx, fmt.Errorf("run the Django migrations: %w", err), false)
		}
	}
	return a.startAndCommit(ctx, down, func() error {
		return writeRecord(t.BackupDir(), a.p.ManifestBytes(), a.incoming)
	})
}

// startAndCommit ends an update whose files are in place: start, health check (the
// downtime measured from down), version file, record, commit. Any failure rolls back.
func (a *applier) startAndCommit(ctx context.Context, down time.Time, record func() error) error {
	a.prog.Step(StepStart)
	if err := a.serviceCall(ctx, "start", a.opt.services(a.in).Start); err != nil {
		return a.failed(ctx, fmt.Errorf("start the new OMFLOW service: %w", err), true)
	}
	a.opt.hook("started", 0)
	a.prog.Step(StepHealth)
	if err := checkHealth(ctx, a.opt, a.in); err != nil {
		return a.failed(ctx, err, true)
	}
	a.rep.Downtime = time.Since(down)
	a.rep.DowntimeMS = a.rep.Downtime.Milliseconds()
	a.opt.logf("OMFLOW answered again %s after the stop", a.rep.Downtime.Round(time.Millisecond))
	if err := a.t.Mark(ctx, phaseHealthy); err != nil {
		return a.failed(ctx, err, true)
	}
	a.opt.hook("healthy", 0)
	a.prog.Step(StepVersion)
	if err := a.in.WriteVersion(a.data.NewVersion); err != nil {
		return a.failed(ctx, err, true)
	}
	a.opt.hook("version-written", 0)
	a.prog.Step(StepCommit)
	if err := record(); err != nil {
		return a.failed(ctx, fmt.Errorf("keep the record of the update: %w", err), true)
	}
	if err := a.recordDatabase(ctx); err != nil {
		// A rollback then puts the old database back without asking, as before.
		a.opt.logf("the database's state at the commit is not recorded: %v", err)
	}
	backup, err := a.t.Commit(context.WithoutCancel(ctx))
	if err != nil {
		// Every file is in place and the new version answers: the journal says healthy,
		// so recover finishes the commit.
		return fmt.Errorf("commit the update (the new version runs; run recover to finish): %w", err)
	}
	a.rep.OK, a.rep.Version, a.rep.Backup = true, a.data.NewVersion, backup
	a.opt.logf("update to %s committed; backup kept at %s", a.data.NewVersion, backup)
	return nil
}

// stage extracts the package next to its targets: into the run's staging folder, which
// is on the installation's file system, so that applying is renames only.
func (a *applier) stage(ctx context.Context) error {
	a.prog.Step(StepStage)
	dir, err := a.p.ExtractTemp(ctx, a.in.StateDir())
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if a.pkgBase, err = readTree(pkg.BaseDir(dir)); err != nil {
		return err
	}
	staging := a.t.StagingDir()
	if err := os.Remove(staging); err != nil {
		return fmt.Errorf("staging folder %q: %w", staging, err)
	}
	if err := os.Rename(pkg.PayloadDir(dir), staging); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("staging folder %q: %w", staging, err)
		}
		if err := os.Mkdir(staging, 0o755); err != nil { // a package that only deletes
			return err
		}
	}
	return nil
}

// plan turns the manifest into file operations: payload files added or replaced, data
// files kept on an existing installation, config files decided (SPEC 4.8), deletions.
func (a *applier) plan() ([]txn.Op, error) {
	m := a.p.Manifest
	versionRel := a.in.Layout.VersionFileRel()
	staging := a.t.StagingDir()
	var ops []txn.Op
	a.incoming = map[string][]byte{}
	for _, f := range m.Files {
		present := exists(a.in, f.Path)
		switch {
		case f.Path == versionRel:
			// Written last, on success, in the installation's own format.
			continue
		case f.Kind == pkg.KindConfig && f.Link == "":
			b, err := os.ReadFile(filepath.Join(staging, filepath.FromSlash(f.Path)))
			if err != nil {
				return nil, fmt.Errorf("staged config file: %w", err)
			}
			a.incoming[f.Path] = b
			continue
		case f.Kind == pkg.KindData && present:
			a.opt.logf("data file %s kept (never replaced on an existing installation)", f.Path)
			if f.Path == m.Schema {
				// The release's own database: the schema the site's is brought to.
				a.pre.release = filepath.Join(a.pre.work, "release.db")
				if _, err := copyFile(filepath.Join(staging, filepath.FromSlash(f.Path)), a.pre.release); err != nil {
					return nil, fmt.Errorf("keep the release's database: %w", err)
				}
			}
			continue
		case present:
			ops = append(ops, txn.Op{Kind: txn.Replace, Path: f.Path})
		default:
			ops = append(ops, txn.Op{Kind: txn.Add, Path: f.Path})
		}
	}
	for _, d := range m.Delete {
		if pkg.DefaultKind(d) != pkg.KindConfig && exists(a.in, d) {
			ops = append(ops, txn.Op{Kind: txn.Delete, Path: d})
		}
	}
	changes, err := decideConfigs(a.in, m, a.incoming, a.pkgBase, a.opt.ConfigChoice)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		a.opt.logf("config file %s: %s (%s)", c.path, c.d.Result, c.d.Reason)
	}
	if err := conflictError(changes); err != nil {
		return nil, err
	}
	cops, err := stageConfigs(a.in, staging, changes)
	if err != nil {
		return nil, fmt.Errorf("stage config files: %w", err)
	}
	a.rep.Config = append(configResults(changes), keptData(a.in, m)...)
	ops = append(ops, cops...)
	return a.planDatabase(ops)
}

// preflightDatabase tries on a copy of the site's SQLite database, while the old service
// runs, what the update does to it: the release's schema, the migrations and the new
// code's Django set up against it. A failure is a refusal, before any change.
func (a *applier) preflightDatabase(ctx context.Context, ops []txn.Op) error {
	if a.dbCopied == nil || (a.pre.release == "" && !a.p.Manifest.TouchesMigrations()) {
		return nil
	}
	deleted := map[string]bool{}
	for _, op := range ops {
		if op.Kind == txn.Delete {
			deleted[op.Path] = true
		}
	}
	staging := a.t.StagingDir()
	a.pre.report.Path = a.db.path
	err := a.pre.run(ctx, filepath.Join(staging, filepath.FromSlash(a.db.path)), func(dst string) error {
		return layOutProject(a.in, staging, deleted, dst)
	})
	if err != nil {
		return err
	}
	a.rep.Database = &a.pre.report
	return nil
}

// heldFiles refuses the update when another process holds a file it must move (Windows
// refuses to rename such a file; the check names the process).
func (a *applier) heldFiles(ctx context.Context, ops []txn.Op) error {
	var files []string
	for _, op := range ops {
		if op.Kind != txn.Add {
			files = append(files, abs(a.in, op.Path))
		}
	}
	return inuse.Check(ctx, inuse.System(), files)
}

// planDatabase puts the SQLite database in the backup (a copy goes in its place), or
// refuses when the database is another engine's and the administrator has not said it
// is backed up.
func (a *applier) planDatabase(ops []txn.Op) ([]txn.Op, error) {
	db, err := readDatabase(a.in)
	if err != nil {
		return nil, err
	}
	switch {
	case db.engine == "":
		return ops, nil
	case !db.sqlite() && !a.opt.DBBackedUp:
		return nil, dbNotBackedUp(db)
	case !db.sqlite():
		a.opt.logf("database %s: not in our backup; the administrator says it is backed up (-db-backed-up)", db.engine)
		return ops, nil
	case db.path == "" || !exists(a.in, db.path):
		return ops, nil
	}
	for _, op := range ops {
		if strings.EqualFold(op.Path, db.path) {
			// A payload file of kind "file", or the delete list, at the path settings.py
			// gives the database: the package would lose the site's data.
			return nil, outcome.Unusable(fmt.Errorf("the package would replace or delete the site's database %s (the one settings.py names): an update never does; the release must list it as data (pack -data)", db.path))
		}
	}
	if a.dbCopied, err = stageDatabase(a.in, a.t.StagingDir(), db.path); err != nil {
		return nil, fmt.Errorf("copy the database %s into the backup: %w", db.path, err)
	}
	a.db = db
	a.opt.logf("database %s goes into the backup; a copy takes its place", db.path)
	return append(ops, databaseOp(db.path)), nil
}

func dbNotBackedUp(db database) error {
	return &outcome.RefusedError{Reason: ReasonDatabaseNotBackedUp,
		Err: fmt.Errorf("the database (%s) is not SQLite, so the update's backup cannot hold it: back it up with its own tools, then run again with -db-backed-up", db.engine)}
}

// failed rolls the run back after a failure, restarts the old service and says how it
// went. started says the new service may be running and must be stopped first.
func (a *applier) failed(ctx context.Context, cause error, started bool) error {
	ctx = context.WithoutCancel(ctx)
	a.opt.logf("update failed: %v; rolling back", cause)
	a.prog.Step(StepRollback)
	if started {
		if err := a.serviceCall(ctx, "stop", a.opt.services(a.in).Stop); err != nil {
			a.opt.logf("stop the new service before the rollback: %v", err)
		}
	}
	if err := a.rollback(ctx, cause, a.data, txn.KindApply); err != nil {
		return err
	}
	a.rep.RolledBack = true
	var failed *outcome.FailedError
	if errors.As(cause, &failed) { // t.Apply rolled back by itself and said so
		return failed
	}
	return &outcome.FailedError{RolledBack: true, Err: cause}
}
