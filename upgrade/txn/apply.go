package txn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"omflow-upgrade/upgrade/outcome"
)

// paths of one op: the live file, the original's backup, the staged copy.
func (t *Txn) paths(op Op) (target, backup, staged string) {
	p := filepath.FromSlash(op.Path)
	return filepath.Join(t.root, p),
		filepath.Join(t.BackupDir(), "files", p),
		filepath.Join(t.StagingDir(), p)
}

// Apply moves the files: for each op the original goes to the backup and the staged copy
// to its place, by rename only. Any failure, or ctx ending, rolls everything back: the
// error is then an *outcome.FailedError (RolledBack says whether the tree is as it was).
func (t *Txn) Apply(ctx context.Context) error {
	if t.j == nil || t.done || t.j.Reached(PhaseApplied) || (t.j.Kind != KindTree && t.j.Reached(PhaseApplying)) {
		return errors.New("txn: Apply needs a prepared run")
	}
	var err error
	if t.j.Tree {
		err = t.applyTree()
	} else {
		err = t.apply(ctx)
	}
	if err == nil {
		return nil
	}
	return t.Rollback(context.WithoutCancel(ctx), err)
}

func (t *Txn) apply(ctx context.Context) error {
	if err := t.setPhase(PhaseApplying); err != nil {
		return err
	}
	for _, d := range t.j.MkDirs {
		p := filepath.Join(t.root, filepath.FromSlash(d.Path))
		err := os.Mkdir(p, d.Mode)
		if err != nil && !os.IsExist(err) {
			return fmt.Errorf("create folder %q: %w", p, err)
		}
		if err == nil {
			// Its parent's owner before the mode: a change of owner may clear set-id bits.
			t.inheritDir(p)
		}
		// The umask must not decide the mode.
		if err := os.Chmod(p, d.Mode); err != nil {
			return fmt.Errorf("create folder %q: %w", p, err)
		}
	}
	made := make(map[string]bool)
	d := newDirs()
	defer d.close()
	swaps, swapped := swapsOf(t.j), make(map[string]bool)
	total := int64(len(t.j.Ops))
	for i, op := range t.j.Ops {
		t.opt.hook("op", i)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cancelled after %d of %d files: %w", i, total, err)
		}
		if dir := path.Dir(op.Path); swaps[dir] != nil {
			if !swapped[dir] {
				if err := t.moveFolderIn(dir, swaps[dir], len(swapped)); err != nil {
					return err
				}
				swapped[dir] = true
			}
			t.opt.progress(int64(i+1), total)
			continue
		}
		target, backup, staged := t.paths(op)
		if op.Kind == Replace || op.Kind == Delete {
			if dir := filepath.Dir(backup); !made[dir] {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("back up %q: %w", target, err)
				}
				made[dir] = true
			}
			keep := d.rename
			if op.Kind == Replace {
				keep = func(target, backup string) error { return keepOriginal(d, target, backup) }
			}
			if err := keep(target, backup); err != nil {
				return fmt.Errorf("back up %q: %w", target, err)
			}
		}
		t.opt.hook("op-mid", i)
		if op.Kind == Replace || op.Kind == Add {
			if err := d.rename(staged, target); err != nil {
				return fmt.Errorf("put %q in place: %w", target, err)
			}
		}
		t.opt.progress(int64(i+1), total)
	}
	for i := len(t.j.RmDirs) - 1; i >= 0; i-- {
		p := filepath.Join(t.root, filepath.FromSlash(t.j.RmDirs[i].Path))
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.opt.logf("folder %s stays: %v", p, err)
		}
	}
	if err := syncFS(t.root); err != nil {
		return err
	}
	if err := t.setPhase(PhaseApplied); err != nil {
		return err
	}
	t.opt.hook("applied", 0)
	return nil
}

// Rollback puts the tree back exactly as it was before the run and ends the run. cause
// is why (nil when the caller has none). The result: nil when cause is nil and the tree
// is back; *outcome.FailedError{RolledBack: true, Err: cause} when the tree is back;
// *outcome.FailedError{RolledBack: false, Manual: ...} when some files could not be put
// back, naming them. A committed run cannot be rolled back (see UndoLast).
func (t *Txn) Rollback(ctx context.Context, cause error) error {
	if t.j == nil || t.done {
		if cause == nil {
			return nil
		}
		return cause
	}
	if t.j.Phase == PhaseCommitted {
		return errors.New("txn: the run is committed; use UndoLast")
	}
	left, err := t.rollback(ctx)
	if err == nil {
		t.done = true
		if cause == nil {
			return nil
		}
		return &outcome.FailedError{RolledBack: true, Err: cause}
	}
	if cause == nil {
		cause = err
	} else {
		cause = fmt.Errorf("%w; rollback: %v", cause, err)
	}
	return &outcome.FailedError{RolledBack: false, Err: cause, Manual: t.manual(left)}
}

// rollback undoes every op whose state shows it started, newest first, then cleans up.
// It can be repeated after a crash at any point.
func (t *Txn) rollback(ctx context.Context) (left []Op, err error) {
	if t.j.Reached(PhaseApplying) && t.j.Phase != PhaseRollingBack {
		// Best effort: a full disk must not stop a rollback, which needs no room (renames
		// only). Without the mark, Txn.CanFinish still sees from the files that the run
		// cannot be finished.
		if err := t.setPhase(PhaseRollingBack); err != nil {
			t.opt.logf("run %s: journal the rollback: %v (rolling back all the same)", t.id, err)
		}
	}
	t.rollbackTried = true
	if t.j.Tree {
		return nil, t.rollbackTree()
	}
	var errs []error
	// Folders an undo removed come back first: files return into them.
	for _, d := range t.j.RmDirs {
		p := filepath.Join(t.root, filepath.FromSlash(d.Path))
		if err := os.Mkdir(p, d.Mode); err == nil {
			t.inheritDir(p)
			os.Chmod(p, d.Mode)
		} else if !os.IsExist(err) {
			errs = append(errs, fmt.Errorf("make folder %q again: %w", p, err))
		}
	}
	// Folders moved whole go back whole, newest first; their files need nothing more.
	// One that cannot is left as it is, its files named for recover or by hand.
	swaps, stuck := swapsOf(t.j), make(map[string]bool)
	for i := len(t.j.Swaps) - 1; i >= 0; i-- {
		rel := t.j.Swaps[i]
		t.opt.hook("rollback-swap", i)
		if err := t.moveFolderBack(rel, swaps[rel], i); err != nil {
			errs = append(errs, fmt.Errorf("put folder %q back: %w", rel, err))
			stuck[rel] = true
		}
	}
	// An undo's staged copies are a kept backup's originals: they go back into it, so
	// that the backup can still be undone, instead of being dropped.
	restage := t.j.Kind == KindUndo
	n := len(t.j.Ops)
	for k := n - 1; k >= 0; k-- {
		op := t.j.Ops[k]
		t.opt.hook("rollback-op", n-1-k)
		if dir := path.Dir(op.Path); swaps[dir] != nil {
			if stuck[dir] {
				left = append(left, op) // its folder could not go back
			}
			t.opt.progress(int64(n-k), int64(n))
			continue
		}
		target, backup, staged := t.paths(op)
		switch op.Kind {
		case Replace, Delete:
			has, err := exists(backup)
			if err != nil {
				errs = append(errs, err)
				left = append(left, op)
				continue
			}
			if has && restage && op.Kind == Replace {
				if err := unstage(target, staged); err != nil {
					errs = append(errs, fmt.Errorf("put %q back into the backup: %w", target, err))
					left = append(left, op)
					continue
				}
			}
			if has {
				if err := putBack(backup, target); err != nil {
					errs = append(errs, fmt.Errorf("put back %q: %w", target, err))
					left = append(left, op)
				}
			}
		case Add:
			if hasStaged, _ := exists(staged); hasStaged {
				continue // never moved
			}
			if restage {
				if err := unstage(target, staged); err != nil {
					errs = append(errs, fmt.Errorf("put %q back into the backup: %w", target, err))
					left = append(left, op)
				}
				continue
			}
			if err := removeFile(target); err != nil {
				errs = append(errs, fmt.Errorf("remove added %q: %w", target, err))
				left = append(left, op)
			}
		}
		t.opt.progress(int64(n-k), int64(n))
	}
	for i := len(t.j.MkDirs) - 1; i >= 0; i-- {
		p := filepath.Join(t.root, filepath.FromSlash(t.j.MkDirs[i].Path))
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			errs = append(errs, fmt.Errorf("remove created folder %q: %w", p, err))
		}
	}
	if len(errs) > 1 {
		return left, fmt.Errorf("%w (and %d more)", errs[0], len(errs)-1)
	}
	if len(errs) == 1 {
		return left, errs[0]
	}
	if err := syncFS(t.root); err != nil {
		return nil, err
	}
	// Everything is back: what remains of the run can go, the journal last.
	if err := removeTree(t.BackupDir()); err != nil {
		return nil, fmt.Errorf("remove backup folder %q: %w", t.BackupDir(), err)
	}
	if t.j.Kind == KindApply {
		if err := removeTree(t.StagingDir()); err != nil {
			return nil, fmt.Errorf("remove staging folder %q: %w", t.StagingDir(), err)
		}
	}
	if err := t.removeJournal(); err != nil {
		return nil, fmt.Errorf("remove journal %q: %w", t.journalPath(), err)
	}
	t.opt.logf("run %s rolled back", t.id)
	return nil, nil
}

// manual says what a failed rollback left and what to do by hand.
func (t *Txn) manual(left []Op) string {
	var restore, remove []string
	for _, op := range left {
		if op.Kind == Add {
			remove = append(remove, op.Path)
		} else {
			restore = append(restore, op.Path)
		}
	}
	files := filepath.Join(t.BackupDir(), "files")
	var b strings.Builder
	fmt.Fprintf(&b, "the installation %s is partly changed. ", t.root)
	if len(restore) > 0 {
		fmt.Fprintf(&b, "%d original file(s) are not back (%s); they are under %s, same relative paths. ", len(restore), list(restore), files)
	}
	if len(remove) > 0 {
		fmt.Fprintf(&b, "%d new file(s) are still there (%s). ", len(remove), list(remove))
	}
	fmt.Fprintf(&b, "Fix the cause above, then run \"omflow-upgrade recover\": it finishes the rollback from the journal %s. ", t.journalPath())
	b.WriteString("By hand instead: move each original back over its place, delete the new files, then delete the journal.")
	return b.String()
}

func list(paths []string) string {
	const max = 10
	if len(paths) <= max {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:max], ", "), len(paths)-max)
}

// Commit ends the run keeping its result: the journal goes beside the backup, the
// staging folder and the live journal are removed, backups beyond Options.Keep are
// pruned. It returns the backup's folder ("" for an undo, which keeps none).
func (t *Txn) Commit(ctx context.Context) (string, error) {
	if t.j == nil || t.done {
		return "", errors.New("txn: Commit outside a run")
	}
	if t.j.Phase != PhaseCommitted {
		// A resumed run, or one whose rollback began, is checked file by file too.
		if !t.j.CanFinish() || ((t.resumed || t.rollbackTried) && !t.CanFinish()) {
			return "", fmt.Errorf("txn: run %s cannot be committed in phase %s", t.id, t.j.Phase)
		}
		if err := t.setPhase(PhaseCommitted); err != nil {
			return "", err
		}
	}
	t.opt.hook("commit", 0)
	dir, err := t.finishCommit()
	if err != nil {
		return "", err
	}
	t.done = true
	return dir, nil
}

// finishCommit does what follows the committed phase; it can be repeated after a crash.
func (t *Txn) finishCommit() (string, error) {
	keep := t.BackupDir()
	switch {
	case t.j.Undoes != "":
		if err := t.markUndone(t.j.Undoes); err != nil {
			return "", err
		}
		keep = ""
		if err := t.discard(t.BackupDir()); err != nil {
			return "", err
		}
		if t.j.Tree {
			// Its entries are back in the root; what is left is an empty folder.
			removeTree(filepath.Join(t.backupsDir(), t.j.Undoes, "tree"))
		}
	default:
		if err := writeJournal(filepath.Join(t.BackupDir(), journalName), t.j); err != nil {
			return "", err
		}
	}
	if err := removeTree(t.StagingDir()); err != nil {
		return "", fmt.Errorf("remove staging folder %q: %w", t.StagingDir(), err)
	}
	t.opt.hook("commit-cleanup", 0)
	if err := syncFS(t.stateDir); err != nil {
		return "", err
	}
	if err := t.removeJournal(); err != nil {
		return "", fmt.Errorf("remove journal %q: %w", t.journalPath(), err)
	}
	if err := syncDir(t.stateDir); err != nil {
		return "", err
	}
	t.opt.logf("run %s committed", t.id)
	t.prune()
	return keep, nil
}

// Close ends the run: a committed run is finished, any change not committed is rolled
// back, and the lock is released. Call it (deferred) on every path.
func (t *Txn) Close() error {
	if t == nil || t.lock == nil {
		return nil
	}
	var err error
	if !t.done {
		switch {
		case t.j == nil:
			removeTree(t.StagingDir())
		case t.j.Phase == PhaseCommitted:
			_, err = t.finishCommit()
		default:
			err = t.Rollback(context.Background(), nil)
		}
		t.done = true
	}
	if t.cleaning != nil {
		<-t.cleaning
	}
	lerr := t.lock.release()
	t.lock = nil
	// Leave no empty state folder behind.
	os.Remove(t.backupsDir())
	os.Remove(t.stateDir)
	if err != nil {
		return err
	}
	return lerr
}

// Resume takes the lock and reopens an interrupted run, or returns nil, nil when there is
// none. The caller reads Journal() (phase, its own Data), then either finishes the run
// (Commit, allowed when Journal().CanFinish()) or rolls it back (Rollback); Close rolls
// back whatever was neither. A run already committed is finished by Commit or Close.
func Resume(ctx context.Context, stateDir, root string, opt Options) (*Txn, error) {
	t, err := open(ctx, stateDir, root, opt)
	if err != nil {
		return nil, err
	}
	j, err := Pending(t.stateDir)
	if err != nil {
		t.lock.release()
		return nil, err
	}
	if j == nil {
		// Nothing pending, but a run killed before its journal may have left its staging
		// folder or a half-made copy.
		t.cleanOrphans()
		t.done = true
		return nil, t.Close()
	}
	if rel, _ := filepath.Rel(t.root, j.Root); rel != "." {
		t.lock.release()
		return nil, fmt.Errorf("journal %q: the run was on %q, not %q", t.journalPath(), j.Root, t.root)
	}
	t.id, t.j, t.resumed = j.ID, j, true
	t.opt.logf("found interrupted %s run %s (%s -> %s), phase %s, started %s", j.Kind, j.ID, j.From, j.To, j.Phase, j.Started.Format(time.RFC3339))
	return t, nil
}

// unstage moves a file an undo put in place (target) back to where it was staged, in
// the kept backup. Nothing is done when it is there already or was never moved (staged
// present), or when target is gone; so a rollback can repeat it after a crash.
func unstage(target, staged string) error {
	if has, err := exists(staged); err != nil || has {
		return err
	}
	if has, err := exists(target); err != nil || !has {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(staged), 0o755); err != nil {
		return err
	}
	return os.Rename(target, staged)
}

// putBack renames a saved original over its place, making its folder again if
// something removed it meanwhile.
func putBack(backup, target string) error {
	err := os.Rename(backup, target)
	if err != nil && os.IsNotExist(err) {
		if _, serr := os.Lstat(backup); serr == nil {
			if merr := os.MkdirAll(filepath.Dir(target), 0o755); merr == nil {
				err = os.Rename(backup, target)
			}
		}
	}
	return err
}
