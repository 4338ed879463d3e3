package txn

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// Folder swaps. A folder whose files an update replaces nearly all of moves as a whole:
// the live folder goes to the backup and the staged one takes its place, two renames
// instead of two per file; what the update does not touch there (an unchanged file,
// __pycache__) is carried from the old folder into the new, one rename each. A swap is
// planned before the journal (Journal.Swaps) only where it leaves exactly what the
// file-by-file moves would leave (docs/DESIGN.md, "Folder moves"):
//   - no op lies deeper down in the folder, which is not the root, nor one the run makes
//     or removes;
//   - the live folder is a plain folder on its parent's file system (not a mount point,
//     no extended attribute but its security label), every file the update replaces or
//     deletes is there, and none of them is a folder;
//   - the staged folder holds exactly the files the update brings there, and has been
//     given the live folder's owner, group, mode and label;
//   - it saves renames.
//
// Every op keeps its place in the journal, and each file's state still reads from the
// file system as after a move of its own (the original at its backup path, the new file
// at its target, the staged copy gone), so CanFinish, an undo and the manual steps see
// no difference. Only the rollback moves a swapped folder back whole.

// folderOps is what an update's ops do in one folder: the names of the files it takes
// away (replaced or deleted: they go to the backup with the old folder), those it brings
// (added or replaced: they come with the staged folder), and the renames it would take
// file by file.
type folderOps struct {
	old, new map[string]bool
	renames  int
}

// opsByFolder groups ops by their folder.
func opsByFolder(ops []Op) map[string]*folderOps {
	by := make(map[string]*folderOps)
	for _, op := range ops {
		dir, name := path.Split(op.Path)
		dir = path.Clean(dir)
		f := by[dir]
		if f == nil {
			f = &folderOps{old: map[string]bool{}, new: map[string]bool{}}
			by[dir] = f
		}
		if op.Kind != Add {
			f.old[name] = true
			f.renames++
		}
		if op.Kind != Delete {
			f.new[name] = true
			f.renames++
		}
	}
	return by
}

// swapsOf is the ops of each folder j swaps, by folder; nil when it swaps none.
func swapsOf(j *Journal) map[string]*folderOps {
	if len(j.Swaps) == 0 {
		return nil
	}
	by := opsByFolder(j.Ops)
	sw := make(map[string]*folderOps, len(j.Swaps))
	for _, rel := range j.Swaps {
		sw[rel] = by[rel]
	}
	return sw
}

// folderPaths are one swapped folder's three places: live, in the backup, staged.
func (t *Txn) folderPaths(rel string) (live, backup, staged string) {
	return t.paths(Op{Path: rel})
}

// planSwaps chooses the folders j swaps whole (see above) and gives their staged
// folders the live ones' attributes. It changes nothing outside the staging folder.
func (t *Txn) planSwaps(j *Journal) {
	if !folderSwaps {
		return
	}
	skip := map[string]bool{".": true}
	for _, op := range j.Ops {
		for d := path.Dir(path.Dir(op.Path)); d != "."; d = path.Dir(d) {
			skip[d] = true
		}
	}
	for _, d := range slices.Concat(j.MkDirs, j.RmDirs) {
		skip[d.Path] = true
	}
	staging := filepath.Join(t.stateDir, j.Staging)
	by := opsByFolder(j.Ops)
	for _, rel := range slices.Sorted(maps.Keys(by)) {
		if skip[rel] {
			continue
		}
		if t.swappable(rel, by[rel], staging) {
			j.Swaps = append(j.Swaps, rel)
		}
	}
	if len(j.Swaps) > 0 {
		t.opt.logf("%d folder(s) move whole, their files replaced", len(j.Swaps))
	}
}

// swappable checks the folder rel (its ops f, its staged copy under staging) and gives
// the staged folder the live one's attributes; false when it is moved file by file.
func (t *Txn) swappable(rel string, f *folderOps, staging string) bool {
	live := filepath.Join(t.root, filepath.FromSlash(rel))
	staged := filepath.Join(staging, filepath.FromSlash(rel))
	fi, err := os.Lstat(live)
	if err != nil || !fi.IsDir() || !plainFolder(live) || checkWritable(filepath.Dir(live)) != nil {
		return false
	}
	if pfi, err := os.Lstat(filepath.Dir(live)); err != nil || !sameDevice(fi, pfi) {
		return false
	}
	ents, err := os.ReadDir(live)
	if err != nil {
		return false
	}
	found, carried := 0, 0
	for _, e := range ents {
		switch {
		case f.old[e.Name()] && e.IsDir():
			return false
		case f.old[e.Name()]:
			found++
		case f.new[e.Name()]:
			return false // an add whose target exists is a replace (preflight)
		default:
			carried++
		}
	}
	if found != len(f.old) || 2+carried >= f.renames {
		return false
	}
	sents, err := os.ReadDir(staged)
	if err != nil || len(sents) != len(f.new) {
		return false
	}
	for _, e := range sents {
		if !f.new[e.Name()] || e.IsDir() {
			return false
		}
	}
	return t.giveFolder(staged, live, fi)
}

// moveFolderIn moves the folder rel whole (Apply): the live folder into the backup, the
// staged one into its place, then what the update does not touch back into it.
// k counts the folders moved before it (for tests' hooks).
func (t *Txn) moveFolderIn(rel string, f *folderOps, k int) error {
	live, backup, staged := t.folderPaths(rel)
	// Every staged copy must be there, as a file's own move would require, and every
	// original, before anything moves: a rollback takes a name the update replaces that
	// is missing from the backup for an original put back.
	if n, err := filesNamed(staged, f.new); err != nil {
		return fmt.Errorf("put folder %q in place: %w", live, err)
	} else if n != len(f.new) {
		return fmt.Errorf("put folder %q in place: %d of its %d staged files are gone from %q", live, len(f.new)-n, len(f.new), staged)
	}
	if n, err := filesNamed(live, f.old); err != nil {
		return fmt.Errorf("back up folder %q: %w", live, err)
	} else if n != len(f.old) {
		// One went away since Prepare; a file's own move would have failed too.
		return fmt.Errorf("back up folder %q: %d of the %d files the update replaces or deletes are gone", live, len(f.old)-n, len(f.old))
	}
	if err := os.MkdirAll(filepath.Dir(backup), 0o755); err != nil {
		return fmt.Errorf("back up folder %q: %w", live, err)
	}
	if err := os.Rename(live, backup); err != nil {
		return fmt.Errorf("back up folder %q: %w", live, err)
	}
	t.opt.hook("swap-mid", k)
	if err := os.Rename(staged, live); err != nil {
		return fmt.Errorf("put folder %q in place: %w", live, err)
	}
	err := carry(backup, live, func(name string, inLive bool) (bool, error) {
		if f.old[name] {
			return false, nil
		}
		if inLive {
			return false, fmt.Errorf("%q is both in the old folder and in the new one", name)
		}
		return true, nil
	}, func() { t.opt.hook("swap-carry", k) })
	if err != nil {
		return fmt.Errorf("carry what the update keeps into %q: %w", live, err)
	}
	return nil
}

// filesNamed counts the files (not folders) of dir among names; a link at dir's name
// is an error.
func filesNamed(dir string, names map[string]bool) (int, error) {
	d, err := openFolder(dir)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	n := 0
	for _, e := range ents {
		if names[e.Name()] && !e.IsDir() {
			n++
		}
	}
	return n, err
}

// moveFolderBack puts the folder rel back whole (rollback), from whatever point its swap
// reached, so that it can be repeated after a crash: what was carried goes back to the
// old folder, the new folder to where it was staged, the old folder to its place.
// It stops at the first entry that does not fit a state a swap (or a file-by-file
// rollback after it) leaves.
// k is its place in the journal's swaps (for tests' hooks).
func (t *Txn) moveFolderBack(rel string, f *folderOps, k int) error {
	live, backup, staged := t.folderPaths(rel)
	if has, err := exists(backup); err != nil || !has {
		return err // never swapped, or back already
	}
	if has, err := exists(live); err != nil {
		return err
	} else if has {
		if has, err := exists(staged); err != nil || has {
			return errors.Join(err, fmt.Errorf("folder %q: both the new folder %q and the staged one %q exist", rel, live, staged))
		}
		// Back to the old folder: what was carried, and an original that a file-by-file
		// rollback already put back (the swap took every one of them into the backup).
		err := carry(live, backup, func(name string, inBackup bool) (bool, error) {
			switch {
			case f.new[name] && (!f.old[name] || inBackup):
				return false, nil // a new file
			case inBackup:
				return false, fmt.Errorf("%q is both in the new folder and in the backup %q", name, backup)
			}
			return true, nil
		}, func() { t.opt.hook("rollback-swap-carry", k) })
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(staged), 0o755); err != nil {
			return err
		}
		if err := os.Rename(live, staged); err != nil {
			return err
		}
		t.opt.hook("rollback-swap-mid", k)
	}
	return os.Rename(backup, live)
}
