package txn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"omflow-upgrade/upgrade/outcome"
)

// Backup is one kept backup, as status -json lists it.
type Backup struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	From     string          `json:"from"`
	To       string          `json:"to"`
	Started  time.Time       `json:"started"`
	Dir      string          `json:"dir"`
	Undone   bool            `json:"undone"`
	UndoneAt time.Time       `json:"undone_at,omitzero"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// Backups lists the kept backups, newest first. It creates, changes and leaves nothing.
func Backups(stateDir string) ([]Backup, error) {
	js, err := keptJournals(stateDir)
	if err != nil {
		return nil, err
	}
	out := make([]Backup, 0, len(js))
	for _, j := range js {
		out = append(out, Backup{ID: j.ID, Kind: j.Kind, From: j.From, To: j.To, Started: j.Started,
			Dir: filepath.Join(stateDir, "backups", j.ID), Undone: j.Undone, UndoneAt: j.UndoneAt, Data: j.Data})
	}
	return out, nil
}

// keptJournals reads the journals of committed backups, newest first, without their
// files (readJournalHead).
func keptJournals(stateDir string) ([]*Journal, error) {
	dir := filepath.Join(stateDir, "backups")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups %q: %w", dir, err)
	}
	var js []*Journal
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		j, err := readJournalHead(filepath.Join(dir, e.Name(), journalName))
		if errors.Is(err, fs.ErrNotExist) {
			continue // a run in progress, or the leftovers of one never committed
		}
		if err != nil {
			return nil, err
		}
		js = append(js, j)
	}
	sort.Slice(js, func(a, b int) bool {
		if !js[a].Started.Equal(js[b].Started) {
			return js[a].Started.After(js[b].Started)
		}
		return js[a].ID > js[b].ID
	})
	return js, nil
}

// prune keeps the newest Options.Keep backups.
func (t *Txn) prune() {
	js, err := keptJournals(t.stateDir)
	if err != nil {
		t.opt.logf("prune backups: %v", err)
		return
	}
	for i, j := range js {
		if i < t.opt.Keep {
			continue
		}
		dir := filepath.Join(t.backupsDir(), j.ID)
		// The journal goes first: a half-removed backup must not be listed or undone.
		if err := removeFile(filepath.Join(dir, journalName)); err != nil {
			t.opt.logf("prune backup %s: %v", dir, err)
			continue
		}
		if err := removeAll(dir); err != nil {
			t.opt.logf("prune backup %s: %v", dir, err)
			continue
		}
		t.opt.logf("pruned old backup %s (%s -> %s)", dir, j.From, j.To)
	}
}

func (t *Txn) markUndone(id string) error {
	p := filepath.Join(t.backupsDir(), id, journalName)
	j, err := readJournal(p)
	if err != nil {
		return fmt.Errorf("mark backup %s undone: %w", id, err)
	}
	if j.Undone {
		return nil
	}
	j.Undone, j.UndoneAt = true, time.Now().UTC()
	return writeJournal(p, j)
}

// BeginUndo opens a run that undoes the newest kept backup not yet undone: Apply puts the
// originals back and removes the files that run added (its own backup holds the files it
// takes away, so the undo rolls back like an update), Commit marks the backup undone.
// The caller stops and starts the service around it as for an update, and writes the
// version file (Journal().To is the version the undo returns to). Without a backup left
// to undo: *outcome.RefusedError{Reason: outcome.ReasonNothingToUndo}.
func BeginUndo(ctx context.Context, stateDir, root string, opt Options) (*Txn, error) {
	t, err := Begin(ctx, stateDir, root, opt)
	if err != nil {
		return nil, err
	}
	os.Remove(t.StagingDir()) // an undo's staged copies are the backup's files
	js, err := keptJournals(t.stateDir)
	if err != nil {
		t.Close()
		return nil, err
	}
	var old *Journal
	for _, j := range js {
		if !j.Undone {
			old = j
			break
		}
	}
	if old == nil {
		t.Close()
		return nil, &outcome.RefusedError{Reason: outcome.ReasonNothingToUndo, Err: errors.New("no kept backup left to undo")}
	}
	if old, err = readJournal(filepath.Join(t.backupsDir(), old.ID, journalName)); err != nil {
		t.Close()
		return nil, err
	}
	if old.Tree {
		if err := t.prepareTreeUndo(old); err != nil {
			t.Close()
			return nil, err
		}
		return t, nil
	}
	j := &Journal{Format: 1, ID: t.id, Kind: KindUndo, Root: t.root, From: old.To, To: old.From,
		Started: time.Now().UTC(), Staging: filepath.Join("backups", old.ID, "files"), Undoes: old.ID, Data: old.Data}
	ops := make([]Op, 0, len(old.Ops))
	for i := len(old.Ops) - 1; i >= 0; i-- {
		op := old.Ops[i]
		switch op.Kind {
		case Add:
			op.Kind = Delete
		case Delete:
			op.Kind = Add
		}
		ops = append(ops, op)
	}
	if _, err := t.preflight(ctx, j, ops, false); err != nil {
		t.Close()
		return nil, err
	}
	j.RmDirs = old.MkDirs
	t.planSwaps(j)
	if err := t.writeFirstJournal(j); err != nil {
		t.Close()
		return nil, err
	}
	t.opt.logf("undoing run %s (%s -> %s) from %s", old.ID, old.From, old.To, filepath.Join(t.backupsDir(), old.ID))
	return t, nil
}
