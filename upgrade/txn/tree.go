package txn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"omflow-upgrade/upgrade/outcome"
)

// A full-tree backup wraps a legacy patch (a patch.sh that changes the tree in place):
// PrepareTree copies the whole installation (but the state folder and logs/) into
// backups/<id>/tree on the same file system, keeping modes, owners, symbolic links and
// times, and journals the run; from then on a rollback or a recovery makes the tree
// exactly the copy again by swapping the top-level entries by rename (the changed ones
// are moved aside, then removed). The caller runs the patch, then Apply (which records
// that the change is done), Mark, Commit as for an update.

// skipTop is what a full-tree backup leaves out: the upgrade's own state, and the logs
// that go on being written.
func (t *Txn) skipTop() map[string]bool {
	skip := map[string]bool{"logs": true}
	if rel, err := filepath.Rel(t.root, t.stateDir); err == nil && filepath.IsLocal(rel) {
		skip[firstElem(rel)] = true
	}
	return skip
}

func firstElem(rel string) string {
	for {
		d := filepath.Dir(rel)
		if d == "." || d == rel {
			return rel
		}
		rel = d
	}
}

// topEntries lists the root's top-level names, but the skipped ones.
func (t *Txn) topEntries() ([]string, error) {
	ents, err := os.ReadDir(t.root)
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", t.root, err)
	}
	skip := t.skipTop()
	var names []string
	for _, e := range ents {
		if !skip[e.Name()] {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// PrepareTree copies the installation into the run's backup folder and journals the run
// (changes are expected from now on). Progress reports bytes copied. A lack of room is a
// refusal ("disk-space") before anything is copied.
func (t *Txn) PrepareTree(ctx context.Context, p Plan) error {
	if t.j != nil {
		return errors.New("txn: Prepare called twice")
	}
	names, err := t.topEntries()
	if err != nil {
		return err
	}
	// The restore swaps top-level entries by rename: a mount point among them cannot move.
	if sfi, err := os.Stat(t.stateDir); err == nil {
		sdev, known := devOf(sfi)
		for _, n := range names {
			fi, err := os.Lstat(filepath.Join(t.root, n))
			if err != nil {
				return fmt.Errorf("full backup of %q: %w", t.root, err)
			}
			if dev, ok := devOf(fi); known && ok && dev != sdev {
				return refuse(outcome.ReasonCrossDevice, fmt.Errorf("%q is another file system (a mount point): a full backup of %q cannot restore it by rename", filepath.Join(t.root, n), t.root))
			}
		}
	}
	var total int64
	for _, n := range names {
		total += TreeBytes(filepath.Join(t.root, n), "")
	}
	if err := t.checkSpace(total); err != nil {
		return err
	}
	tree := filepath.Join(t.BackupDir(), "tree")
	if err := os.MkdirAll(tree, 0o700); err != nil {
		return fmt.Errorf("create %q: %w", tree, err)
	}
	c := &copier{ctx: ctx, t: t, opt: &t.opt, total: total}
	for _, n := range names {
		if err := c.copy(filepath.Join(t.root, n), filepath.Join(tree, n)); err != nil {
			removeTree(t.BackupDir())
			return fmt.Errorf("full backup of %q: %w", t.root, err)
		}
	}
	if err := syncFS(tree); err != nil {
		removeTree(t.BackupDir())
		return err
	}
	t.opt.hook("tree-copied", 0)
	j := &Journal{Format: 1, ID: t.id, Kind: KindTree, Tree: true, Root: t.root, From: p.From, To: p.To,
		Started: time.Now().UTC(), Staging: "staging-" + t.id, Entries: names, Data: p.Data}
	if err := t.writeFirstJournal(j); err != nil {
		removeTree(t.BackupDir())
		return err
	}
	// The patch changes files in place: any instant from here on may need the copy.
	return t.setPhase(PhaseApplying)
}

type copier struct {
	ctx         context.Context
	t           *Txn
	opt         *Options
	done, total int64
	links       map[[2]uint64]string // first copy of each hard-linked file
}

// copy copies src to dst (which must not exist) with its metadata, folders after their
// contents so a read-only folder can be filled and times stay.
func (c *copier) copy(src, dst string) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
		ents, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := c.copy(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
	case m&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
	case m.IsRegular():
		key, linked := linkKey(fi)
		if first, seen := c.links[key]; linked && seen {
			// Another name of a file already copied: the copy keeps them one file.
			return os.Link(first, dst)
		}
		if err := c.copyFile(src, dst); err != nil {
			return err
		}
		if linked {
			if c.links == nil {
				c.links = make(map[[2]uint64]string)
			}
			c.links[key] = dst
		}
	default:
		// Sockets and pipes belong to running programs, not to the installation.
		c.opt.logf("full backup: %s is a %s, not copied", src, kindOf(fi))
		return nil
	}
	if err := keepMeta(dst, fi); err != nil {
		return fmt.Errorf("%q: %w", dst, err)
	}
	if err := c.t.copyLabel(src, dst); err != nil {
		return fmt.Errorf("%q: %w", dst, err)
	}
	return nil
}

func (c *copier) copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// io.Copy between files uses copy_file_range where the kernel has it.
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %q: %w", src, err)
	}
	c.done += n
	c.opt.progress(c.done, c.total)
	return nil
}

// swapIn makes the root's top-level entries those of want (names wantNames): the
// others are moved into aside. It can be repeated after a crash: an entry of want that
// is no longer in want is already in place.
func (t *Txn) swapIn(want string, wantNames []string, aside string) error {
	wanted := make(map[string]bool, len(wantNames))
	for _, n := range wantNames {
		wanted[n] = true
	}
	cur, err := t.topEntries()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(aside, 0o700); err != nil {
		return err
	}
	for i, n := range cur {
		if wanted[n] {
			if in, err := exists(filepath.Join(want, n)); err != nil {
				return err
			} else if !in {
				continue // already swapped in
			}
		}
		t.opt.hook("tree-swap", i)
		if err := os.Rename(filepath.Join(t.root, n), filepath.Join(aside, n)); err != nil {
			return fmt.Errorf("move %q aside: %w", filepath.Join(t.root, n), err)
		}
	}
	for _, n := range wantNames {
		src := filepath.Join(want, n)
		if in, err := exists(src); err != nil {
			return err
		} else if !in {
			continue
		}
		if err := os.Rename(src, filepath.Join(t.root, n)); err != nil {
			return fmt.Errorf("put back %q: %w", filepath.Join(t.root, n), err)
		}
	}
	return syncFS(t.root)
}

// swapOut reverses an unfinished swapIn: want's entries go back to want, aside's come
// back to the root.
func (t *Txn) swapOut(want string, wantNames []string, aside string, curNames []string) error {
	for _, n := range wantNames {
		if in, err := exists(filepath.Join(want, n)); err != nil || in {
			if err != nil {
				return err
			}
			continue
		}
		p := filepath.Join(t.root, n)
		if there, err := exists(p); err != nil || !there {
			if err != nil {
				return err
			}
			continue
		}
		if err := os.Rename(p, filepath.Join(want, n)); err != nil {
			return fmt.Errorf("move %q back into the backup: %w", p, err)
		}
	}
	for _, n := range curNames {
		src := filepath.Join(aside, n)
		if in, err := exists(src); err != nil || !in {
			if err != nil {
				return err
			}
			continue
		}
		if err := os.Rename(src, filepath.Join(t.root, n)); err != nil {
			return fmt.Errorf("put back %q: %w", filepath.Join(t.root, n), err)
		}
	}
	return syncFS(t.root)
}

// rollbackTree makes the tree the full backup again (a tree run), or undoes an
// unfinished undo of one.
func (t *Txn) rollbackTree() error {
	aside := filepath.Join(t.BackupDir(), "aside")
	var err error
	if t.j.Undoes == "" {
		err = t.swapIn(filepath.Join(t.BackupDir(), "tree"), t.j.Entries, aside)
	} else {
		err = t.swapOut(filepath.Join(t.backupsDir(), t.j.Undoes, "tree"), t.j.UndoEntries, aside, t.j.Entries)
	}
	if err != nil {
		return err
	}
	if err := removeAll(t.BackupDir()); err != nil {
		return fmt.Errorf("remove %q: %w", t.BackupDir(), err)
	}
	removeTree(t.StagingDir())
	if err := t.removeJournal(); err != nil {
		return fmt.Errorf("remove journal %q: %w", t.journalPath(), err)
	}
	t.opt.logf("run %s rolled back", t.id)
	return nil
}

// applyTree ends the change of a tree run: for a legacy patch the caller made it, so
// this only journals it; for the undo of a full backup, the backup is swapped in.
func (t *Txn) applyTree() error {
	if t.j.Undoes != "" {
		if err := t.setPhase(PhaseApplying); err != nil {
			return err
		}
		aside := filepath.Join(t.BackupDir(), "aside")
		if err := t.swapIn(filepath.Join(t.backupsDir(), t.j.Undoes, "tree"), t.j.UndoEntries, aside); err != nil {
			return err
		}
	}
	if err := t.setPhase(PhaseApplied); err != nil {
		return err
	}
	t.opt.hook("applied", 0)
	return nil
}

func (t *Txn) prepareTreeUndo(old *Journal) error {
	names, err := t.topEntries()
	if err != nil {
		return err
	}
	sort.Strings(names)
	j := &Journal{Format: 1, ID: t.id, Kind: KindUndo, Tree: true, Root: t.root, From: old.To, To: old.From,
		Started: time.Now().UTC(), Staging: "staging-" + t.id, Undoes: old.ID, Entries: names,
		UndoEntries: old.Entries, Data: old.Data}
	if err := t.writeFirstJournal(j); err != nil {
		return err
	}
	t.opt.logf("undoing run %s (%s -> %s) from its full backup %s", old.ID, old.From, old.To, filepath.Join(t.backupsDir(), old.ID, "tree"))
	return nil
}

// removeAll removes a tree, read-only folders included (a full backup keeps their
// modes, and without write permission on a folder its entries cannot be removed).
func removeAll(path string) error {
	if err := removeTree(path); err == nil {
		return nil
	}
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return removeTree(path)
}
