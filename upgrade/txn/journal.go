package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Kind is what an operation does to one root-relative file.
type Kind string

const (
	Add     Kind = "add"     // a new file: staged copy renamed into place
	Replace Kind = "replace" // original renamed into the backup, staged copy into place
	Delete  Kind = "delete"  // original renamed into the backup
)

// Op is one file of a transaction. Path is root-relative and slash-separated; the staged
// copy of an Add or Replace is at the same path inside the staging folder.
type Op struct {
	Kind Kind   `json:"kind"`
	Path string `json:"path"`
	// Like, for an Add or Replace, names (root-relative) the installed file whose owner,
	// group, mode and security label the staged copy takes instead of those of the file it
	// replaces or of its folder: a copy saved beside a file (settings.py.omflow-old) is
	// kept like that file. Prepare reads it; the journal does not keep it, since recovery
	// never needs it (the staged copies are given their owners before the journal).
	Like string `json:"-"`
}

// Run kinds.
const (
	KindApply = "apply" // a file transaction (an update)
	KindUndo  = "undo"  // the undo of a committed run (Tree set when it swaps a full backup in)
	KindTree  = "tree"  // a full-tree backup around an in-place patch
)

// Phases that the engine writes. Callers add their own with Mark (e.g. "healthy").
const (
	PhasePrepared    = "prepared"
	PhaseApplying    = "applying"
	PhaseApplied     = "applied"
	PhaseCommitted   = "committed"
	PhaseRollingBack = "rolling-back"
)

// PhaseMark is one journaled phase.
type PhaseMark struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// Dir is a folder the run creates or removes, root-relative.
type Dir struct {
	Path string      `json:"path"`
	Mode fs.FileMode `json:"mode"`
}

// Journal is the record of one run: written and synced before the first change, kept
// beside the backup after commit. The state of each file is not journaled: renames being
// atomic, it is read from the file system (target, backup copy, staged copy).
type Journal struct {
	Format  int         `json:"format"`
	ID      string      `json:"id"`
	Kind    string      `json:"kind"`
	Root    string      `json:"root"`
	From    string      `json:"from"`
	To      string      `json:"to"`
	Started time.Time   `json:"started"`
	Phase   string      `json:"phase"`
	Phases  []PhaseMark `json:"phases"`
	// Staging is the folder of staged copies, relative to the state folder.
	Staging string `json:"staging"`
	// Undoes is the backup an undo run puts back.
	Undoes string `json:"undoes,omitempty"`
	// Undone is set on a kept backup's journal once it has been undone.
	Undone   bool      `json:"undone,omitempty"`
	UndoneAt time.Time `json:"undone_at,omitzero"`
	// MkDirs are created before the files move (parents first) and removed by a rollback
	// when empty; RmDirs are removed after the files move when empty, and made again by a
	// rollback.
	MkDirs []Dir `json:"mkdirs,omitempty"`
	RmDirs []Dir `json:"rmdirs,omitempty"`
	Ops    []Op  `json:"ops,omitempty"`
	// Swaps are the folders whose ops move them whole (swap.go), root-relative.
	Swaps []string `json:"swaps,omitempty"`
	// Tree marks a full-tree run: a legacy patch's (KindTree) or the undo of one.
	Tree bool `json:"tree,omitempty"`
	// Entries are the root's top-level names saved by a full-tree backup.
	Entries []string `json:"entries,omitempty"`
	// UndoEntries are the entries of the full backup an undo puts back.
	UndoEntries []string `json:"undo_entries,omitempty"`
	// Data is the caller's own, kept as given (e.g. what the orchestration needs to
	// finish or undo the run: the service, the version file).
	Data json.RawMessage `json:"data,omitempty"`
}

// Reached tells whether the run has journaled the phase.
func (j *Journal) Reached(phase string) bool {
	for _, p := range j.Phases {
		if p.Name == phase {
			return true
		}
	}
	return false
}

// CanFinish tells whether every file of the run is in place and no rollback has begun:
// only then may an interrupted run be finished instead of rolled back.
func (j *Journal) CanFinish() bool {
	return j.Reached(PhaseApplied) && !j.Reached(PhaseRollingBack)
}

const journalName = "journal.json"

func journalPath(stateDir string) string { return filepath.Join(stateDir, journalName) }

func readJournal(path string) (*Journal, error) {
	j := new(Journal)
	return j, decodeJournal(path, j, j)
}

// readJournalHead reads a journal without its files (Ops, Swaps): what listing, pruning
// and choosing a backup need, at a fraction of the cost for a large update (the list
// is still scanned, not built).
func readJournalHead(path string) (*Journal, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	heads.Lock()
	c, ok := heads.m[path]
	heads.Unlock()
	if ok && os.SameFile(c.fi, fi) && c.fi.ModTime().Equal(fi.ModTime()) && c.fi.Size() == fi.Size() {
		j := c.j
		return &j, nil
	}
	var h struct {
		*Journal
		Ops   skipped `json:"ops"`
		Swaps skipped `json:"swaps"`
	}
	h.Journal = new(Journal)
	if err := decodeJournal(path, &h, h.Journal); err != nil {
		return nil, err
	}
	heads.Lock()
	if heads.m == nil {
		heads.m = map[string]journalHead{}
	}
	heads.m[path] = journalHead{fi, *h.Journal}
	heads.Unlock()
	return h.Journal, nil
}

// heads are the journal heads this process has read, by path, with the file as it was
// then: listing, choosing and pruning backups read the same few journals several times
// in one run, and a journal is only ever replaced by a rename (writeFileAtomic), which
// the file's identity shows. A head handed out is a copy; its slices are shared and
// must not be changed.
var heads struct {
	sync.Mutex
	m map[string]journalHead
}

type journalHead struct {
	fi fs.FileInfo
	j  Journal
}

// skipped is a JSON value read past.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// decodeJournal reads the journal at path into v, which fills j.
func decodeJournal(path string, v any, j *Journal) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("journal %q: %w", path, err)
	}
	if j.ID == "" || j.Kind == "" {
		return fmt.Errorf("journal %q: no run id or kind", path)
	}
	return nil
}

func writeJournal(path string, j *Journal) error {
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("journal %q: %w", path, err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// Pending reports the run whose journal is in the state folder, or nil. It creates,
// changes and leaves nothing (a read-only command may call it). While LockInfo says the
// lock is held, the run is in progress; otherwise it was interrupted and waits for
// recovery.
func Pending(stateDir string) (*Journal, error) {
	j, err := readJournal(journalPath(stateDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return j, nil
}

// removeJournal ends a run's record, with the temporary file a crash mid-write may have
// left.
func (t *Txn) removeJournal() error {
	if err := removeFile(t.journalPath() + ".tmp"); err != nil {
		return err
	}
	return removeFile(t.journalPath())
}
