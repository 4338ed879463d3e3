// Package txn is the file transaction of an update (SPEC 4.4): one run per installation
// (an OS-held lock), a journal written and synced before the first change, backup and
// apply by rename only (never a file rewritten in place), automatic rollback, recovery
// after a crash, kept backups and their undo, and the full-tree backup that wraps a
// legacy in-place patch.
//
// Everything lives in the state folder the caller names (ROOT/.omflow-upgrade):
//
//	lock                 the holder (pid, host, command, start), OS-locked while held
//	journal.json         the run in progress or interrupted; absent otherwise
//	staging-<id>/        the payload, extracted by the caller, root-relative paths
//	backups/<id>/files/  the originals the run replaced or deleted
//	backups/<id>/tree/   a full-tree backup (legacy patches)
//	backups/<id>/journal.json  the run's journal, once committed
//
// The journal is written at each phase, not per file: since a rename is atomic, each
// file's state is read back from the file system. For a Replace, the original is first
// renamed to the backup, then the staged copy to the target; so "backup present" means
// the original must go back, whatever the target holds. A rollback renames every backup
// present over its target, removes every added file whose staged copy is gone, and
// removes the folders the run created; repeating it after a crash does no harm.
//
// A typical update (the orchestration adds the service and the version file):
//
//	t, err := txn.Begin(ctx, stateDir, root, opt)   // lock; refuses if a run is pending
//	defer t.Close()                                 // rolls back anything not committed
//	extract the payload into t.StagingDir()         // service still running
//	err = t.Prepare(ctx, txn.Plan{From, To, Ops, Data})  // preflight, sync, journal
//	stop the service
//	err = t.Apply(ctx)                              // renames only; rolled back on failure
//	start, health check; on failure: err = t.Rollback(ctx, cause), start the old service
//	t.Mark(ctx, "healthy"); write the version file
//	backup, err := t.Commit(ctx)
//
// At the start of a command that changes things, an interrupted run is ended first:
//
//	t, err := txn.Resume(ctx, stateDir, root, opt)  // nil when nothing is pending
//	if t.CanFinish() && t.Journal().Reached("healthy") { t.Commit(ctx) } else { t.Rollback(ctx, nil) }
//	t.Close()
//
// Read-only commands call Pending, LockInfo and Backups, which write nothing. The
// rollback command is BeginUndo (then Apply, Commit as above) or UndoLast in one call.
// A legacy in-place patch uses PrepareTree instead of Prepare: the caller runs the
// patch after it, then Apply, Mark, Commit.
package txn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"omflow-upgrade/upgrade/outcome"
)

// Options tune a run. The zero value works.
type Options struct {
	// Command names the run in the lock (e.g. "apply"), for the message another run
	// shows; default: the program's arguments.
	Command string
	// Keep is how many committed backups to keep (default 3).
	Keep int
	// NeedBytes is the space the caller's staged payload will take (checked by Begin,
	// before the caller extracts anything).
	NeedBytes int64
	// DirMode is the mode of folders the run creates (default 0755).
	DirMode fs.FileMode
	// Logf receives one line per action worth a log line.
	Logf func(format string, args ...any)
	// Progress receives files done and total while files move (Apply, rollback), bytes
	// done and total while PrepareTree copies.
	Progress func(done, total int64)
	// Hook, for tests, is called at named points: "journal" (before the journal is first
	// written), "prepared", "op" (before op i of Apply), "op-mid" (between the two
	// renames of op i), "applied", "rollback-op" (before
	// op i of a rollback), "commit" (after the committed phase is journaled),
	// "commit-cleanup" (before the live journal is removed), "tree-copied", "tree-swap".
	Hook func(point string, i int)
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

func (o *Options) hook(point string, i int) {
	if o.Hook != nil {
		o.Hook(point, i)
	}
}

func (o *Options) progress(done, total int64) {
	if o.Progress != nil {
		o.Progress(done, total)
	}
}

// Plan is what an update does, given to Prepare.
type Plan struct {
	From, To string
	Ops      []Op
	// Data is kept in the journal as given, for the caller at recovery.
	Data json.RawMessage
}

// Txn is one run holding the installation's lock.
type Txn struct {
	stateDir, root string
	opt            Options
	lock           *lockFile
	id             string
	j              *Journal   // nil until Prepare
	done           bool       // committed or rolled back: nothing left to do
	stateDev       *uint64    // the state folder's file system, where known
	resumed        bool       // reopened by Resume
	rollbackTried  bool       // a rollback began (and may have stopped half-way)
	owners         ownerState // what the run said of owners and labels (owner_unix.go)
	// discarded are earlier rollbacks' folders of taken-out files; cleaning is closed once
	// removeDiscarded has removed them.
	discarded []string
	cleaning  chan struct{}
}

// journalMargin is room for the journal and the folders' metadata.
const journalMargin = 1 << 20

// Begin takes the installation's lock and opens a run with a fresh staging folder. It
// refuses (outcome.RefusedError) when another live run holds the lock ("lock-held"),
// when an interrupted run waits for recovery ("interrupted-run"), or when the file
// system lacks opt.NeedBytes ("disk-space").
func Begin(ctx context.Context, stateDir, root string, opt Options) (*Txn, error) {
	t, err := open(ctx, stateDir, root, opt)
	if err != nil {
		return nil, err
	}
	if j, err := Pending(stateDir); err != nil || j != nil {
		t.lock.release()
		if err != nil {
			return nil, err
		}
		return nil, &outcome.RefusedError{Reason: outcome.ReasonInterruptedRun,
			Err: fmt.Errorf("an interrupted %s run %s (%s -> %s, phase %s) waits for recover", j.Kind, j.ID, j.From, j.To, j.Phase)}
	}
	t.cleanOrphans()
	// The room the folders earlier rollbacks put aside take counts as free: they go
	// before anything is written when the run needs it, beside its work otherwise.
	// Their size is summed (a walk of their files) only in the first case.
	first := false
	if err := t.checkSpace(opt.NeedBytes); err != nil {
		var freeing int64
		for _, p := range t.discarded {
			freeing += TreeBytes(p, "")
		}
		if len(t.discarded) == 0 || t.checkSpace(opt.NeedBytes-freeing) != nil {
			t.lock.release()
			return nil, err
		}
		first = true
	}
	if err := os.MkdirAll(t.StagingDir(), 0o755); err != nil {
		t.lock.release()
		return nil, fmt.Errorf("create staging folder %q: %w", t.StagingDir(), err)
	}
	if first {
		t.opt.logf("the update needs the room of the files earlier rollbacks took out: they go first")
		t.removeFolders(t.discarded)
		t.discarded = nil
	}
	t.removeDiscarded()
	return t, nil
}

// removeFolders removes the folders earlier rollbacks put aside, logging what fails.
func (t *Txn) removeFolders(dirs []string) {
	for _, p := range dirs {
		t.opt.logf("removing %s, the files an earlier rollback took out", p)
		if err := removeAll(p); err != nil {
			t.opt.logf("remove %s: %v", p, err)
		}
	}
}

// removeDiscarded removes the folders earlier rollbacks put aside, on a goroutine beside
// the run's own work (unlinking 20,000 files is the disk's and the other core's work, not
// the extraction's); Close waits for it before it lets go of the lock. On a journaled
// file system that costs the run little; on ext4 without a journal every file the run
// creates meanwhile skips, one by one, the inodes freed in the last 30 seconds, and
// removing them after the run cost more still (docs/DESIGN.md).
func (t *Txn) removeDiscarded() {
	if len(t.discarded) == 0 {
		return
	}
	done := make(chan struct{})
	t.cleaning = done
	dirs := t.discarded
	go func() {
		defer close(done)
		t.removeFolders(dirs)
	}()
}

// TreeBytes is the size of the regular files below dir, leaving out the folder skip
// ("" for none); what cannot be read counts 0.
func TreeBytes(dir, skip string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir() && p == skip:
			return filepath.SkipDir
		case d.Type().IsRegular():
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func open(ctx context.Context, stateDir, root string, opt Options) (*Txn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	stateDir, err = filepath.Abs(stateDir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a folder")
		}
		return nil, outcome.Unusable(fmt.Errorf("installation %q: %w", root, err))
	}
	if opt.Command == "" {
		opt.Command = strings.Join(os.Args, " ")
	}
	if opt.Keep <= 0 {
		opt.Keep = 3
	}
	if opt.DirMode == 0 {
		opt.DirMode = 0o755
	}
	l, err := acquireLock(stateDir, opt.Command)
	if err != nil {
		return nil, err
	}
	return &Txn{stateDir: stateDir, root: root, opt: opt, lock: l, id: newID(stateDir)}, nil
}

func newID(stateDir string) string {
	for {
		id := time.Now().UTC().Format("20060102-150405.000000")
		if ok, _ := exists(filepath.Join(stateDir, "backups", id)); !ok {
			return id
		}
		time.Sleep(time.Microsecond)
	}
}

func (t *Txn) checkSpace(need int64) error { return CheckSpace(t.stateDir, need) }

// cleanOrphans removes what a run killed before its journal left behind: staging
// folders and backup folders without a journal. Called with the lock held and no
// journal pending.
func (t *Txn) cleanOrphans() {
	removeFile(t.journalPath() + ".tmp")
	ents, _ := os.ReadDir(t.stateDir)
	for _, e := range ents {
		p := filepath.Join(t.stateDir, e.Name())
		switch {
		case e.IsDir() && strings.HasPrefix(e.Name(), "staging-"):
			t.opt.logf("removing staging folder %s of a run that ended before it began", p)
			removeTree(p)
		case e.IsDir() && strings.HasPrefix(e.Name(), discardedPrefix):
			t.discarded = append(t.discarded, p)
		}
	}
	ents, _ = os.ReadDir(t.backupsDir())
	for _, e := range ents {
		p := filepath.Join(t.backupsDir(), e.Name())
		if ok, _ := exists(filepath.Join(p, journalName)); !ok {
			t.opt.logf("removing backup folder %s of a run that never committed", p)
			removeTree(p)
		}
	}
}

// discardedPrefix names the folders of files a committed rollback took out of the
// installation (the undone update's own files): nothing needs them, and removing 20,000
// files costs more than the rollback itself, so the rollback only renames its backup
// folder to discarded-ID and the next run removes it first, while OMFLOW runs and before
// its disk-space check.
const discardedPrefix = "discarded-"

// discard puts dir, a folder of the state folder, out of the way for the next run to
// remove: one rename (removed at once when the rename fails).
func (t *Txn) discard(dir string) error {
	to := filepath.Join(t.stateDir, discardedPrefix+filepath.Base(dir))
	err := os.Rename(dir, to)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil // gone already: a commit repeated after a crash
	}
	if err := removeAll(dir); err != nil {
		return fmt.Errorf("remove %q: %w", dir, err)
	}
	return nil
}

// ID is the run's id (also its backup folder's name).
func (t *Txn) ID() string { return t.id }

// StagingDir is where the caller extracts the payload, root-relative paths, before
// Prepare. It is on the state folder's file system, so renames reach the root.
func (t *Txn) StagingDir() string {
	if t.j != nil {
		return filepath.Join(t.stateDir, t.j.Staging)
	}
	return filepath.Join(t.stateDir, "staging-"+t.id)
}

// BackupDir is where the run's originals are kept.
func (t *Txn) BackupDir() string { return filepath.Join(t.backupsDir(), t.id) }

func (t *Txn) backupsDir() string { return filepath.Join(t.stateDir, "backups") }

// Journal is a copy of the run's journal (nil before Prepare).
func (t *Txn) Journal() *Journal {
	if t.j == nil {
		return nil
	}
	c := *t.j
	return &c
}

func (t *Txn) journalPath() string { return journalPath(t.stateDir) }

// setPhase journals a phase (synced) before the step it announces.
func (t *Txn) setPhase(name string) error {
	t.j.Phase = name
	t.j.Phases = append(t.j.Phases, PhaseMark{Name: name, At: time.Now().UTC()})
	if err := writeJournal(t.journalPath(), t.j); err != nil {
		return err
	}
	t.opt.logf("run %s: phase %s", t.id, name)
	return nil
}

// SetData replaces the caller's data in the journal (synced), for what the caller
// learns after Prepare.
func (t *Txn) SetData(ctx context.Context, data json.RawMessage) error {
	if t.j == nil || t.done {
		return errors.New("txn: SetData outside a prepared run")
	}
	t.j.Data = data
	return writeJournal(t.journalPath(), t.j)
}

// Mark journals a phase of the caller's own (e.g. "healthy"), synced, so a recovery
// knows how far the run got.
func (t *Txn) Mark(ctx context.Context, phase string) error {
	if t.j == nil || t.done {
		return errors.New("txn: Mark outside a prepared run")
	}
	return t.setPhase(phase)
}

// checkRel validates a root-relative slash path.
func checkRel(p string) error {
	if p == "" || strings.Contains(p, "\\") || path.IsAbs(p) || path.Clean(p) != p || !filepath.IsLocal(filepath.FromSlash(p)) {
		return fmt.Errorf("path %q is not a clean root-relative path", p)
	}
	return nil
}

// Prepare checks the plan against the installation, changing nothing, then writes and
// syncs the journal. A problem found is a refusal naming the file; nothing was changed.
// An Add whose target exists becomes a Replace; a Replace whose target is gone becomes
// an Add; a Delete whose target is gone is dropped (each logged).
func (t *Txn) Prepare(ctx context.Context, p Plan) error {
	if t.j != nil {
		return errors.New("txn: Prepare called twice")
	}
	j := &Journal{Format: 1, ID: t.id, Kind: KindApply, Root: t.root, From: p.From, To: p.To,
		Started: time.Now().UTC(), Staging: "staging-" + t.id, Data: p.Data}
	stats, err := t.preflight(ctx, j, p.Ops, true)
	if err != nil {
		return err
	}
	// Owners, modes and labels now, while the service runs (owner.go).
	if err := t.keepOwners(ctx, j.Ops, stats); err != nil {
		return err
	}
	t.planSwaps(j)
	// The staged copies must be on disk before they are renamed into place, or a power
	// cut could leave empty files under their final names. Doing it here, while the
	// service still runs, keeps Apply to renames.
	if err := syncFS(t.StagingDir()); err != nil {
		return err
	}
	return t.writeFirstJournal(j)
}

func (t *Txn) writeFirstJournal(j *Journal) error {
	t.opt.hook("journal", 0)
	if err := os.MkdirAll(t.BackupDir(), 0o755); err != nil {
		return fmt.Errorf("create backup folder %q: %w", t.BackupDir(), err)
	}
	t.j = j
	if err := t.setPhase(PhasePrepared); err != nil {
		t.j = nil
		return err
	}
	t.opt.hook("prepared", 0)
	return nil
}

func refuse(reason outcome.Reason, err error) error {
	return &outcome.RefusedError{Reason: reason, Err: err}
}

// preflight checks ops against the tree and journals in j those that remain (see
// Prepare); it returns what it read of each of them (their targets' labels when labels).
func (t *Txn) preflight(ctx context.Context, j *Journal, ops []Op, labels bool) ([]opStat, error) {
	stateRel, _ := filepath.Rel(t.root, t.stateDir)
	stateRel = filepath.ToSlash(stateRel)
	staging := filepath.Join(t.stateDir, j.Staging)
	seen := make(map[string]bool, len(ops))
	if fi, err := os.Stat(t.stateDir); err == nil {
		if dev, known := devOf(fi); known {
			t.stateDev = &dev
		}
	}
	dirsOK := make(map[string]bool) // existing folders checked writable
	mk := make(map[string]bool)     // folders to create
	var need int64
	out := make([]Op, 0, len(ops))
	stats := t.statOps(ctx, ops, staging, labels)
	kept := stats[:0]
	for i, op := range ops {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := checkRel(op.Path); err != nil {
			return nil, outcome.Unusable(err)
		}
		// Case-blind: on Windows (and macOS) .OMFLOW-UPGRADE is the same folder.
		if p := strings.ToLower(op.Path); p == strings.ToLower(stateRel) || strings.HasPrefix(p, strings.ToLower(stateRel)+"/") {
			return nil, outcome.Unusable(fmt.Errorf("path %q is inside the upgrade's state folder", op.Path))
		}
		if seen[op.Path] {
			return nil, outcome.Unusable(fmt.Errorf("path %q appears twice in the update", op.Path))
		}
		seen[op.Path] = true
		target := filepath.Join(t.root, filepath.FromSlash(op.Path))
		fi, err := stats[i].target, stats[i].targetErr
		present := err == nil
		if err != nil && !isNotExist(err) {
			return nil, refuse(outcome.ReasonTarget, fmt.Errorf("check %q: %w", target, err))
		}
		if present && !(fi.Mode().IsRegular() || fi.Mode()&fs.ModeSymlink != 0) {
			return nil, refuse(outcome.ReasonTarget, fmt.Errorf("%q is a %s, the update expects a file there", target, kindOf(fi)))
		}
		switch op.Kind {
		case Add, Replace:
			if present && op.Kind == Add {
				t.opt.logf("%s exists already: replacing it", op.Path)
				op.Kind = Replace
			} else if !present && op.Kind == Replace {
				t.opt.logf("%s is missing: adding it", op.Path)
				op.Kind = Add
			}
			if err := t.checkDir(t.root, path.Dir(op.Path), dirsOK, mk); err != nil {
				return nil, err
			}
			src := filepath.Join(staging, filepath.FromSlash(op.Path))
			sfi, err := stats[i].staged, stats[i].stagedErr
			if err != nil {
				return nil, refuse(outcome.ReasonStaging, fmt.Errorf("staged copy of %q: %w", op.Path, err))
			}
			if !sfi.Mode().IsRegular() && sfi.Mode()&fs.ModeSymlink == 0 {
				return nil, refuse(outcome.ReasonStaging, fmt.Errorf("staged copy %q is a %s", src, kindOf(sfi)))
			}
			if err := t.checkDir(staging, path.Dir(op.Path), dirsOK, nil); err != nil {
				return nil, err
			}
		case Delete:
			if !present {
				t.opt.logf("%s is gone already: nothing to delete", op.Path)
				continue
			}
			if err := t.checkDir(t.root, path.Dir(op.Path), dirsOK, mk); err != nil {
				return nil, err
			}
		default:
			return nil, outcome.Unusable(fmt.Errorf("path %q: unknown action %q", op.Path, op.Kind))
		}
		need += int64(len(op.Path)) + 64
		out = append(out, op)
		kept = append(kept, stats[i])
	}
	j.Ops = out
	for d := range mk {
		j.MkDirs = append(j.MkDirs, Dir{Path: d, Mode: t.opt.DirMode})
	}
	// Parents first: a parent's path sorts before its children's.
	sort.Slice(j.MkDirs, func(a, b int) bool { return j.MkDirs[a].Path < j.MkDirs[b].Path })
	return kept, t.checkSpace(need)
}

// checkDir checks that files can be renamed into and out of base/rel, or, when it does
// not exist and mk is given, that it can be created (and records it in mk).
func (t *Txn) checkDir(base, rel string, ok, mk map[string]bool) error {
	key := base + "\x00" + rel
	if ok[key] {
		return nil
	}
	dir := filepath.Join(base, filepath.FromSlash(rel))
	if err := noLinkAbove(base, rel, ok); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if rel == "." {
		fi, err = os.Stat(dir) // the root itself may be reached through a link
	}
	switch {
	case err == nil && (fi.Mode()&fs.ModeSymlink != 0 || fi.Mode()&fs.ModeIrregular != 0 && fi.IsDir()):
		// A link planted where a folder is (uploads/x -> /etc) would take root's renames
		// and deletions outside the installation.
		return refuse(outcome.ReasonTarget, fmt.Errorf("%q is a link, the update expects a folder there: nothing is written through a link", dir))
	case err == nil && !fi.IsDir():
		return refuse(outcome.ReasonTarget, fmt.Errorf("%q is a %s, the update expects a folder there", dir, kindOf(fi)))
	case err != nil && isNotExist(err) && mk != nil && rel != ".":
		if err := t.checkDir(base, path.Dir(rel), ok, mk); err != nil {
			return err
		}
		mk[rel] = true
		ok[key] = true
		return nil
	}
	if err != nil {
		return refuse(outcome.ReasonTarget, fmt.Errorf("check folder %q: %w", dir, err))
	}
	if err := checkWritable(dir); err != nil {
		return refuse(outcome.ReasonReadOnly, err)
	}
	if mk != nil && t.stateDev != nil {
		if dev, known := devOf(fi); known && dev != *t.stateDev {
			return refuse(outcome.ReasonCrossDevice, fmt.Errorf("folder %q is on another file system than %q: files cannot be moved between them by rename", dir, t.stateDir))
		}
	}
	ok[key] = true
	return nil
}

// noLinkAbove refuses rel when a folder above it, below base, is a link: Lstat of rel
// itself would follow it. Folders found plain are remembered in ok.
func noLinkAbove(base, rel string, ok map[string]bool) error {
	if rel == "." {
		return nil
	}
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		d := strings.Join(parts[:i], "/")
		key := base + "\x00above\x00" + d
		if ok[key] {
			continue
		}
		dir := filepath.Join(base, filepath.FromSlash(d))
		fi, err := os.Lstat(dir)
		if isNotExist(err) {
			return nil // nor is anything below it
		}
		if err != nil {
			return refuse(outcome.ReasonTarget, fmt.Errorf("check folder %q: %w", dir, err))
		}
		if fi.Mode()&fs.ModeSymlink != 0 || fi.Mode()&fs.ModeIrregular != 0 && fi.IsDir() {
			return refuse(outcome.ReasonTarget, fmt.Errorf("%q is a link, the update expects a folder there: nothing is written through a link", dir))
		}
		ok[key] = true
	}
	return nil
}

func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || isNotDir(err)
}

func kindOf(fi fs.FileInfo) string {
	switch m := fi.Mode(); {
	case m.IsDir():
		return "folder"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
