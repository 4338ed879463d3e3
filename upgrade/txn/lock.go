package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"omflow-upgrade/upgrade/outcome"
)

// Holder describes the run that holds (or last held) an installation's lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d (%s) on %s since %s", h.PID, h.Command, h.Host, h.Since.Format(time.RFC3339))
}

// lockFile is the OS-locked file that makes one run per installation. The kernel drops
// the OS lock when its holder dies, so a dead holder's file is simply taken over.
type lockFile struct {
	path string
	f    *os.File
}

func lockPath(stateDir string) string { return filepath.Join(stateDir, "lock") }

// acquireLock takes the installation's lock or refuses naming the live holder.
func acquireLock(stateDir, command string) (*lockFile, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state folder %q: %w", stateDir, err)
	}
	// Everything the update writes before it renames (staged files, the database's
	// copies, the backups, the journal) lives here: no other account may write here,
	// or it could plant links that root's writes follow.
	if err := checkStateDir(stateDir); err != nil {
		return nil, refuse(outcome.ReasonStateFolder, err)
	}
	path := lockPath(stateDir)
	// A reader (LockInfo) may hold a shared lock for an instant; a few quick retries keep
	// that from being reported as a live holder.
	var busy error
	for attempt := 0; attempt < 20; attempt++ {
		f, err := openLockFile(path)
		if err != nil {
			return nil, fmt.Errorf("open lock %q: %w", path, err)
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %q: %w", path, err)
		}
		if !ok {
			f.Close()
			busy = errLockBusy
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !sameFile(f, path) {
			// The previous holder removed the file between our open and our lock: the lock
			// we hold is on a file nobody else will see. Start again.
			f.Close()
			continue
		}
		h := Holder{PID: os.Getpid(), Command: command, Since: time.Now().UTC()}
		h.Host, _ = os.Hostname()
		b, _ := json.Marshal(h)
		err = f.Truncate(0)
		if err == nil {
			_, err = f.WriteAt(append(b, '\n'), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("write lock %q: %w", path, err)
		}
		_ = f.Sync()
		return &lockFile{path: path, f: f}, nil
	}
	if busy == nil {
		return nil, fmt.Errorf("lock %q: the lock file keeps changing", path)
	}
	held := &LockHeldError{Path: path}
	if h, err := readHolder(path); err == nil {
		held.Holder = &h
	}
	return nil, &outcome.RefusedError{Reason: outcome.ReasonLockHeld, Err: held}
}

// LockHeldError is the lock of another live run; Holder is nil when its file cannot be
// read.
type LockHeldError struct {
	Path   string
	Holder *Holder
}

func (e *LockHeldError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("another upgrade run holds the lock %q", e.Path)
	}
	return fmt.Sprintf("another upgrade run holds the lock %q: %s", e.Path, e.Holder)
}

var errLockBusy = errors.New("lock busy")

func (l *lockFile) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Remove while still holding the lock so no one takes a lock on a doomed file
	// unnoticed (acquireLock checks the file it locked is still the one at the path).
	err := removeLockFile(l.path, l.f)
	cerr := l.f.Close()
	l.f = nil
	if err != nil {
		return err
	}
	return cerr
}

func readHolder(path string) (Holder, error) {
	var h Holder
	b, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(b))), &h); err != nil {
		return h, fmt.Errorf("lock %q: %w", path, err)
	}
	return h, nil
}

// LockInfo tells whether a live run holds the installation's lock, and who. It creates,
// changes and leaves nothing (a read-only command may call it).
func LockInfo(stateDir string) (h Holder, held bool, err error) {
	path := lockPath(stateDir)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("open lock %q: %w", path, err)
	}
	defer f.Close()
	held, err = probeLock(f)
	if err != nil {
		return h, false, fmt.Errorf("probe lock %q: %w", path, err)
	}
	if !held {
		return h, false, nil
	}
	h, err = readHolder(path)
	if err != nil {
		// Held, but the holder is still writing its name.
		return h, true, nil
	}
	return h, true, nil
}
