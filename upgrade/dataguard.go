package upgrade

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/schema"
	"omflow-upgrade/upgrade/txn"
)

// DataChoice is what a rollback does with a database the site has written to since the
// update: refuse (the default), keep it with the previous version's files, or put the
// old one back and keep the current one beside it.
type DataChoice string

const (
	DataRefuse    DataChoice = ""
	DataFilesOnly DataChoice = "files-only"
	DataDiscard   DataChoice = "discard-data"
)

// discardedSuffix names the current database kept beside the old one by -discard-data.
const discardedSuffix = ".omflow-discarded-"

// hashFile is the SHA-256 of a file, in hex.
func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// recordDatabase keeps, in the run's journal, the hash of the site's SQLite database as
// the update leaves it: a later rollback compares it to tell whether the site has
// written to its database since.
func (a *applier) recordDatabase(ctx context.Context) error {
	db := a.db
	if db.path == "" {
		var err error
		if db, err = readDatabase(a.in); err != nil {
			return err
		}
	}
	if !db.sqlite() || db.path == "" || !exists(a.in, db.path) {
		return nil
	}
	sum, err := hashFile(abs(a.in, db.path))
	if err != nil {
		return err
	}
	a.data.Database, a.data.DatabaseSHA256 = db.path, sum
	return a.saveData(ctx)
}

// dataSince is what a rollback found of the site's database since the update it undoes.
type dataSince struct {
	choice DataChoice
	path   string // root-relative
	// kept is where -discard-data keeps the current database (root-relative).
	kept string
}

// guardData looks at the database of the update a rollback is about to undo. Unchanged
// since the commit (or not recorded), it returns nil and the rollback puts the old one
// back. Changed, it refuses unless the administrator chose what to do with today's data:
// -files-only (allowed when the previous version's code sets up against it) or
// -discard-data.
func guardData(ctx context.Context, opt *Options, in *install.Installation, choice DataChoice) (*dataSince, error) {
	backups, err := txn.Backups(in.StateDir())
	if err != nil {
		return nil, err
	}
	var b *txn.Backup
	for i := range backups {
		if !backups[i].Undone {
			b = &backups[i]
			break
		}
	}
	if b == nil {
		return nil, nil // BeginUndo refuses with nothing-to-undo
	}
	var d runData
	if len(b.Data) > 0 {
		json.Unmarshal(b.Data, &d)
	}
	if d.DatabaseSHA256 == "" || !exists(in, d.Database) {
		return nil, nil
	}
	sum, err := hashFile(abs(in, d.Database))
	if err != nil {
		return nil, fmt.Errorf("read the database %s: %w", d.Database, err)
	}
	if sum == d.DatabaseSHA256 {
		opt.logf("rollback: the database %s is as the update left it; the one of before the update goes back", d.Database)
		return nil, nil
	}
	old := filepath.Join(b.Dir, "files", filepath.FromSlash(d.Database))
	lost := lostRows(ctx, old, abs(in, d.Database))
	age := ago(time.Since(b.Started))
	opt.logf("rollback: the site wrote to its database %s since the update to %s %s ago (%s)", d.Database, b.To, age, lost)
	switch choice {
	case DataRefuse:
		return nil, &outcome.RefusedError{Reason: ReasonDatabaseChangedSince, Err: fmt.Errorf(
			"the site has written to its database %s since the update to %s (%s ago; %s): a rollback would put back the database of before the update and lose that. "+
				"Run rollback again with -files-only (the previous version's files with today's database) or -discard-data (the database of before the update; today's is kept beside it)",
			d.Database, b.To, age, lost)}
	case DataFilesOnly:
		if d.Python != nil {
			return nil, &outcome.RefusedError{Reason: ReasonDatabaseChangedSince,
				Err: fmt.Errorf("the update moved OMFLOW to Python %s, so its previous version cannot be tried against today's database: -files-only is not possible; use -discard-data", d.Python.Version)}
		}
		if err := tryOldCode(ctx, opt, in, b, d.Database); err != nil {
			return nil, err
		}
	case DataDiscard:
	default:
		return nil, outcome.Unusable(fmt.Errorf("rollback: data choice %q: want %s or %s", choice, DataFilesOnly, DataDiscard))
	}
	g := &dataSince{choice: choice, path: d.Database}
	if choice == DataDiscard {
		g.kept = d.Database + discardedSuffix + time.Now().Format("20060102-150405")
	}
	return g, nil
}

// tryOldCode sets the previous version's Django up against a copy of today's database,
// while the service runs: -files-only is refused when it does not start.
func tryOldCode(ctx context.Context, opt *Options, in *install.Installation, b *txn.Backup, db string) error {
	work, err := os.MkdirTemp("", "omflow-upgrade-rollback-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	pre := &dbPreflight{opt: opt, in: in, work: work, python: in.Python(), report: DatabaseReport{Path: db}, old: true}
	err = pre.run(ctx, abs(in, db), func(dst string) error {
		return layOutProject(in, filepath.Join(b.Dir, "files"), nil, dst)
	})
	var refused *outcome.RefusedError
	if errors.As(err, &refused) {
		return &outcome.RefusedError{Reason: ReasonDatabaseChangedSince,
			Err: fmt.Errorf("-files-only is not possible, use -discard-data: %w", err)}
	}
	return err
}

// ago says how long ago, as an administrator reads it.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// lostRows says, table by table, how the database at now differs in rows from the one
// at before: what a rollback to before would lose.
func lostRows(ctx context.Context, before, now string) string {
	b, err := schema.Read(ctx, before)
	if err != nil {
		return "its changes cannot be counted"
	}
	n, err := schema.Read(ctx, now)
	if err != nil {
		return "its changes cannot be counted"
	}
	var parts []string
	for name, t := range n.Tables {
		bt, ok := b.Tables[name]
		switch {
		case !ok:
			parts = append(parts, fmt.Sprintf("%s, a table made since (%d rows)", name, t.Rows))
		case t.Rows != bt.Rows:
			parts = append(parts, fmt.Sprintf("%s %d rows, %d before the update", name, t.Rows, bt.Rows))
		}
	}
	if len(parts) == 0 {
		return "rows changed, none added or removed"
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// afterUndo is what the rollback does with the database once the previous version's
// files are back and before it starts: today's database back in place (-files-only), or
// kept beside the old one (-discard-data). Today's copy is in the undo's own backup.
func (g *dataSince) afterUndo(opt *Options, in *install.Installation, t *txn.Txn) error {
	today := filepath.Join(t.BackupDir(), "files", filepath.FromSlash(g.path))
	switch g.choice {
	case DataFilesOnly:
		tmp := abs(in, g.path) + ".omflow-upgrade-tmp"
		if _, err := copyFile(today, tmp); err != nil {
			return fmt.Errorf("put today's database back (it is in %s): %w", today, err)
		}
		if err := os.Rename(tmp, abs(in, g.path)); err != nil {
			return fmt.Errorf("put today's database back (it is in %s): %w", today, err)
		}
		opt.logf("rollback: today's database %s stays with the previous version's files", g.path)
	case DataDiscard:
		if _, err := copyFile(today, abs(in, g.kept)); err != nil {
			return fmt.Errorf("keep today's database beside the old one (it is in %s): %w", today, err)
		}
		opt.logf("rollback: the database of before the update is back; today's is kept as %s", g.kept)
	}
	return nil
}
