//go:build unix

package txn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"

	"omflow-upgrade/upgrade/outcome"
)

// lchown is os.Lchown; a test replaces it to play a run that may not give files away.
var lchown = os.Lchown

// attrs is what a file is given: owner, group, permission bits (when setPerm) and
// security label (nil: none known).
type attrs struct {
	uid, gid int
	setPerm  bool
	perm     fs.FileMode
	label    []byte
}

func ownerOf(fi fs.FileInfo) attrs {
	st := fi.Sys().(*syscall.Stat_t)
	return attrs{uid: int(st.Uid), gid: int(st.Gid)}
}

// folder is what a new file of a folder is given: the folder's owner and label, or those
// of its nearest existing ancestor (path) when the run creates it.
type folder struct {
	path string
	attrs
}

// keeper gives the staged copies of one Prepare their attributes (rules in owner.go).
type keeper struct {
	t        *Txn
	dirs     map[string]*folder   // by root-relative folder
	siblings map[[2]string][]byte // label of a file of a folder, by folder and extension
}

// keepOwners gives the staged copy of each Add and Replace of ops the owner, group,
// mode and label it must have in place; stats are what preflight read of them. A
// failure is an error before any change.
func (t *Txn) keepOwners(ctx context.Context, ops []Op, stats []opStat) error {
	k := &keeper{t: t, dirs: map[string]*folder{}, siblings: map[[2]string][]byte{}}
	for i, op := range ops {
		if err := ctx.Err(); err != nil {
			return err
		}
		if op.Kind == Delete {
			continue
		}
		if op.Like != "" {
			if err := checkRel(op.Like); err != nil {
				return outcome.Unusable(fmt.Errorf("%s: %w", op.Path, err))
			}
		}
		_, _, staged := t.paths(op)
		a, err := k.wanted(op, stats[i])
		if err != nil {
			return err
		}
		if err := t.give(staged, stats[i].staged, a); err != nil {
			return err
		}
	}
	return nil
}

// wanted is what the staged copy of op (s, as preflight read it) is given.
func (k *keeper) wanted(op Op, s opStat) (attrs, error) {
	sfi := s.staged
	if op.Like != "" {
		p := filepath.Join(k.t.root, filepath.FromSlash(op.Like))
		if ok, _ := exists(p); ok {
			fi, err := os.Lstat(p)
			if err != nil {
				return attrs{}, fmt.Errorf("check %q: %w", p, err)
			}
			label, err := getLabel(p, false)
			return keptAttrs(fi, sfi, label), err
		}
		k.t.opt.logf("%s: %s, whose owner and mode it takes, is gone: it gets its folder's", op.Path, op.Like)
	}
	if op.Kind == Replace {
		return keptAttrs(s.target, sfi, s.label), s.labelErr
	}
	return k.newFile(op.Path)
}

// keptAttrs is what a staged copy (sfi) replacing or standing in for ref (fi, labelled
// label) is given: ref's owner, group and label, and the mode keptMode says.
func keptAttrs(fi, sfi fs.FileInfo, label []byte) attrs {
	a := ownerOf(fi)
	if fi.Mode().IsRegular() && sfi.Mode().IsRegular() {
		a.setPerm, a.perm = true, keptMode(fi.Mode(), sfi.Mode())
	}
	a.label = label
	return a
}

// newFile is what a new file at rel gets: the owner and group of its folder, the label
// of a file of that folder (with the same extension if there is one) or else the
// folder's. A folder without a label gives none: on a labelled file system every file
// has one. The mode stays the package's.
func (k *keeper) newFile(rel string) (attrs, error) {
	d, err := k.dir(path.Dir(rel))
	if err != nil || d.label == nil {
		return d.attrs, err
	}
	a := d.attrs
	key := [2]string{d.path, path.Ext(rel)}
	l, seen := k.siblings[key]
	if !seen {
		if l, err = siblingLabel(d.path, path.Ext(rel)); err != nil {
			return attrs{}, err
		}
		k.siblings[key] = l
	}
	if l != nil {
		a.label = l
	}
	return a, nil
}

// dir is the root-relative folder rel as new files in it see it.
func (k *keeper) dir(rel string) (*folder, error) {
	if d, ok := k.dirs[rel]; ok {
		return d, nil
	}
	p := filepath.Join(k.t.root, filepath.FromSlash(rel))
	fi, err := os.Stat(p)
	if err != nil {
		if !isNotExist(err) || rel == "." {
			return nil, fmt.Errorf("check folder %q: %w", p, err)
		}
		// The run creates it, with its parent's owner.
		d, err := k.dir(path.Dir(rel))
		if err == nil {
			k.dirs[rel] = d
		}
		return d, err
	}
	d := &folder{path: p, attrs: ownerOf(fi)}
	if d.label, err = getLabel(p, true); err != nil {
		return nil, err
	}
	k.dirs[rel] = d
	return d, nil
}

// siblingLabel is the label of a regular file of dir, one with the extension ext if
// there is one; nil when no file there has a label.
func siblingLabel(dir, ext string) ([]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list folder %q: %w", dir, err)
	}
	var first []byte
	for _, e := range ents {
		if !e.Type().IsRegular() || (first != nil && filepath.Ext(e.Name()) != ext) {
			continue
		}
		l, err := getLabel(filepath.Join(dir, e.Name()), false)
		if err != nil {
			return nil, err
		}
		if l != nil && filepath.Ext(e.Name()) == ext {
			return l, nil
		}
		if first == nil {
			first = l
		}
	}
	return first, nil
}

// give makes p's (fi) owner, mode and label a's. A run that may not change an owner or
// label says so once and goes on.
func (t *Txn) give(p string, fi fs.FileInfo, a attrs) error {
	link := fi.Mode()&fs.ModeSymlink != 0
	if cur := ownerOf(fi); cur.uid != a.uid || cur.gid != a.gid {
		// First: a change of owner clears set-id bits.
		if err := lchown(p, a.uid, a.gid); err != nil {
			if !errors.Is(err, fs.ErrPermission) {
				return fmt.Errorf("give %q its owner: %w", p, err)
			}
			if !t.owners.ownerWarned {
				t.owners.ownerWarned = true
				t.opt.logf("files keep the owner of this run (uid %d), not that of what they replace: %v (only root may give a file away; said once)", os.Geteuid(), err)
			}
		}
	}
	if a.setPerm && !link && a.perm != fi.Mode().Perm() {
		if err := os.Chmod(p, a.perm); err != nil {
			return fmt.Errorf("give %q its mode: %w", p, err)
		}
	}
	if a.label == nil {
		return nil
	}
	cur, err := getLabel(p, false)
	if err != nil || (cur != nil && bytes.Equal(cur, a.label)) {
		return err
	}
	err = setLabel(p, a.label)
	switch {
	case err == nil || noLabels(err):
	case errors.Is(err, fs.ErrPermission) && link:
		// The user.* attributes a test uses as labels are refused on links.
	case errors.Is(err, fs.ErrPermission):
		if !t.owners.labelWarned {
			t.owners.labelWarned = true
			t.opt.logf("files keep the security label of the staging folder, not that of what they replace: %v (said once)", err)
		}
	default:
		return fmt.Errorf("give %q its security label: %w", p, err)
	}
	return nil
}

// inheritDir gives a folder the run made (p) the owner, group and label of its parent.
// The mode is the caller's. Run while the service is stopped, it logs what it cannot
// do rather than fail the update: the folder is there, and readable.
func (t *Txn) inheritDir(p string) {
	pfi, err := os.Stat(filepath.Dir(p))
	var fi fs.FileInfo
	if err == nil {
		fi, err = os.Lstat(p)
	}
	a := attrs{}
	if err == nil {
		a = ownerOf(pfi)
		a.label, err = getLabel(filepath.Dir(p), true)
	}
	if err == nil {
		err = t.give(p, fi, a)
	}
	if err != nil {
		t.opt.logf("folder %s: %v", p, err)
	}
}

// copyLabel gives dst the label of src (a full-tree backup's copy).
func (t *Txn) copyLabel(src, dst string) error {
	l, err := getLabel(src, false)
	if err != nil || l == nil {
		return err
	}
	fi, err := os.Lstat(dst)
	if err != nil {
		return err
	}
	a := ownerOf(fi)
	a.label = l
	return t.give(dst, fi, a)
}

// KeepAttrs gives dst, a file about to be renamed over like, like's owner, group, mode
// and security label by the rules of an update's Replace (see keptMode): for files the
// update writes outside a transaction (the version file, Apache's django.conf). Nothing
// is done when like does not exist; an owner or label this run may not give is left
// as it is, silently.
func KeepAttrs(dst, like string) error {
	fi, err := os.Lstat(like)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	dfi, err := os.Lstat(dst)
	if err != nil {
		return err
	}
	label, err := getLabel(like, false)
	if err != nil {
		return err
	}
	return (&Txn{}).give(dst, dfi, keptAttrs(fi, dfi, label))
}

// ownerState: the run said once that it may not give files their owner or label.
type ownerState struct{ ownerWarned, labelWarned bool }
