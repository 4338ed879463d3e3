package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// releaseDB is the name the release's database is attached under. Not "release": that
// is an SQL keyword.
const releaseDB = "omflow_release"

// Apply brings the database at sitePath to the schema of the release's database at
// releasePath (attached read-only), all in one SQLite transaction: any error leaves the
// site's file as it was. It re-reads both schemas and re-plans inside that transaction,
// since the site may have changed since the caller's Plan, and returns the *UnsafeError
// if the plan is no longer safe. It returns the changes made.
func Apply(ctx context.Context, sitePath, releasePath string, values Values) (*Changes, error) {
	c, err := apply(ctx, sitePath, releasePath, values)
	if err != nil {
		return nil, fmt.Errorf("bring %q to the schema of %q: %w", sitePath, releasePath, err)
	}
	return c, nil
}

func apply(ctx context.Context, sitePath, releasePath string, values Values) (*Changes, error) {
	// An empty or foreign file would be taken by SQLite for an empty database and filled.
	if _, err := checkHeader(sitePath); err != nil {
		return nil, err
	}
	// mode=rw: a wrong path must not make a new database. IMMEDIATE takes the write lock
	// before the schema is read, so nothing can change it between plan and change.
	siteURI, err := fileURI(sitePath, "mode=rw&_txlock=immediate&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	releaseURI, err := readOnlyURI(releasePath)
	if err != nil {
		return nil, fmt.Errorf("release %q: %w", releasePath, err)
	}
	db, err := sql.Open("sqlite", siteURI)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// PRAGMAs and ATTACH belong to one connection, and cannot be run inside a transaction.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	for _, q := range []string{
		// Rows are copied as they are, in an order foreign keys know nothing of; SQLite
		// also refuses to ADD a REFERENCES column with a default while they are on.
		"PRAGMA foreign_keys = OFF",
		// Renaming the rebuilt table only has to rename it: the modern rename also
		// re-parses every view and trigger, and fails on one that names the table the
		// rebuild has just dropped.
		"PRAGMA legacy_alter_table = ON",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS "+releaseDB, releaseURI); err != nil {
		return nil, fmt.Errorf("attach %q: %w", releasePath, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	site, err := readSchema(ctx, tx, "main")
	if err != nil {
		return nil, fmt.Errorf("read schema of %q: %w", sitePath, err)
	}
	release, err := readSchema(ctx, tx, releaseDB)
	if err != nil {
		return nil, fmt.Errorf("read schema of %q: %w", releasePath, err)
	}
	changes, err := Plan(site, release, values)
	if err != nil {
		return nil, err
	}
	a := &applier{tx: tx, site: site, release: release}
	if err := a.apply(ctx, changes); err != nil {
		return nil, err
	}
	if err := integrityCheck(ctx, tx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return changes, nil
}

// applier makes a plan's changes inside the transaction.
type applier struct {
	tx            *sql.Tx
	site, release *Schema
}

func (a *applier) apply(ctx context.Context, c *Changes) error {
	for _, t := range c.Tables {
		if err := a.createTable(ctx, t); err != nil {
			return fmt.Errorf("create table %q: %w", t.Name, err)
		}
	}
	for i := 0; i < len(c.Columns); {
		j := i + 1
		for j < len(c.Columns) && c.Columns[j].Table == c.Columns[i].Table {
			j++
		}
		if err := a.addColumns(ctx, c.Columns[i:j]); err != nil {
			return err
		}
		i = j
	}
	for _, ix := range c.Indexes {
		// The release's SQL names the table unqualified; SQLite looks in main first.
		if _, err := a.tx.ExecContext(ctx, a.release.Indexes[ix.Name].SQL); err != nil {
			return fmt.Errorf("create index %q on table %q: %w", ix.Name, ix.Table, err)
		}
	}
	for _, m := range missingMigrations(a.site, a.release) {
		_, err := a.tx.ExecContext(ctx,
			`INSERT INTO main.`+migrationsTable+` (app, name, applied)
			 SELECT app, name, applied FROM `+releaseDB+`.`+migrationsTable+`
			 WHERE app = ? AND name = ? ORDER BY rowid LIMIT 1`, m.App, m.Name)
		if err != nil {
			return fmt.Errorf("record migration %q: %w", m.String(), err)
		}
	}
	return nil
}

// createTable makes a table the release adds, with its exact DDL, rows and sequence.
func (a *applier) createTable(ctx context.Context, t TableAdd) error {
	rt := a.release.Tables[t.Name]
	ct, err := parseCreateTable(rt.SQL)
	if err != nil {
		return fmt.Errorf("release's CREATE TABLE: %w", err)
	}
	// Unqualified, as the release wrote it: CREATE TABLE makes it in main.
	if _, err := a.tx.ExecContext(ctx, rt.SQL); err != nil {
		return err
	}
	dst := side{"main." + quoteIdent(rt.Name), rt, ct}
	src := side{releaseDB + "." + quoteIdent(rt.Name), rt, ct}
	n, err := copyRows(ctx, a.tx, dst, src, nil)
	if err != nil {
		return fmt.Errorf("copy rows: %w", err)
	}
	if n != rt.Rows {
		return fmt.Errorf("copied %d rows of the release's %d", n, rt.Rows)
	}
	if !ct.hasAutoincrement || a.release.table("sqlite_sequence") == nil {
		return nil
	}
	seq, ok, err := sequence(ctx, a.tx, releaseDB, rt.Name)
	if err != nil || !ok {
		return err
	}
	return raiseSequence(ctx, a.tx, rt.Name, seq)
}

// addColumns adds the columns the release adds to one site table.
func (a *applier) addColumns(ctx context.Context, adds []ColumnAdd) error {
	table := adds[0].Table
	if adds[0].Rebuild {
		if err := a.rebuild(ctx, table, adds); err != nil {
			return fmt.Errorf("rebuild table %q: %w", table, err)
		}
		return nil
	}
	for _, c := range adds {
		_, err := a.tx.ExecContext(ctx, "ALTER TABLE main."+quoteIdent(table)+" ADD COLUMN "+c.Definition)
		if err != nil {
			return fmt.Errorf("add column %q to table %q: %w", c.Column, table, err)
		}
	}
	return nil
}

// rebuild is SQLite's 12-step ALTER (https://www.sqlite.org/lang_altertable.html#otheralter)
// with the release's CREATE TABLE as the new definition.
func (a *applier) rebuild(ctx context.Context, table string, adds []ColumnAdd) error {
	st, rt := a.site.table(table), a.release.table(table)
	sct, err := parseCreateTable(st.SQL)
	if err != nil {
		return fmt.Errorf("site's CREATE TABLE: %w", err)
	}
	rct, err := parseCreateTable(rt.SQL)
	if err != nil {
		return fmt.Errorf("release's CREATE TABLE: %w", err)
	}
	tmp := st.Name + "_omflow_upgrade_rebuild"
	if a.site.table(tmp) != nil {
		return fmt.Errorf("the site already has a table %q", tmp)
	}

	// DROP TABLE takes the table's indexes, triggers and sqlite_sequence entry along.
	keep, err := a.indexesAndTriggers(ctx, st.Name)
	if err != nil {
		return err
	}
	seq, hasSeq, err := sequence(ctx, a.tx, "main", st.Name)
	if err != nil {
		return err
	}

	if _, err := a.tx.ExecContext(ctx, rct.renamed(tmp)); err != nil {
		return fmt.Errorf("create %q: %w", tmp, err)
	}
	newT := &Table{Name: tmp, Columns: rt.Columns}
	n, err := copyRows(ctx, a.tx,
		side{"main." + quoteIdent(tmp), newT, rct},
		side{"main." + quoteIdent(st.Name), st, sct}, adds)
	if err != nil {
		return fmt.Errorf("copy rows: %w", err)
	}
	// An ON CONFLICT IGNORE in the release's DDL would drop rows without an error.
	if n != st.Rows {
		return fmt.Errorf("copied %d of its %d rows", n, st.Rows)
	}
	for _, q := range []string{
		"DROP TABLE main." + quoteIdent(st.Name),
		"ALTER TABLE main." + quoteIdent(tmp) + " RENAME TO " + quoteIdent(st.Name),
	} {
		if _, err := a.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	for _, k := range keep {
		if _, err := a.tx.ExecContext(ctx, k.sql); err != nil {
			return fmt.Errorf("recreate %s %q: %w", k.typ, k.name, err)
		}
	}
	// The site's sequence may be above its largest id (rows deleted): ids once handed out
	// stay used.
	if hasSeq && rct.hasAutoincrement {
		if err := raiseSequence(ctx, a.tx, st.Name, seq); err != nil {
			return err
		}
	}
	return foreignKeyCheck(ctx, a.tx, st.Name)
}

type schemaObject struct{ typ, name, sql string }

// indexesAndTriggers are the site's explicit indexes and triggers of a table, indexes
// first (a trigger may rely on one).
func (a *applier) indexesAndTriggers(ctx context.Context, table string) ([]schemaObject, error) {
	rows, err := a.tx.QueryContext(ctx,
		`SELECT type, name, sql FROM main.sqlite_master
		 WHERE type IN ('index', 'trigger') AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL
		 ORDER BY type = 'trigger', rowid`, table)
	if err != nil {
		return nil, fmt.Errorf("read indexes and triggers: %w", err)
	}
	defer rows.Close()
	var objs []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.typ, &o.name, &o.sql); err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, rows.Err()
}

// side is one end of a row copy: a table's qualified name, columns and DDL.
type side struct {
	qualified string
	t         *Table
	ct        *createTable
}

// hasRowidAlias: an INTEGER PRIMARY KEY column is the rowid, copied with the columns.
func (s side) hasRowidAlias() bool {
	if s.ct.withoutRowid {
		return false
	}
	var pks []Column
	for _, c := range s.t.Columns {
		if c.PK > 0 {
			pks = append(pks, c)
		}
	}
	return len(pks) == 1 && strings.EqualFold(pks[0].Type, "INTEGER")
}

// copyRows inserts every row of src into dst: the columns both have (generated columns
// cannot be written), the rowid when dst has no column for it, and for each of extra
// with a Value that value, bound as a parameter. It returns how many rows it inserted.
func copyRows(ctx context.Context, tx *sql.Tx, dst, src side, extra []ColumnAdd) (int64, error) {
	// Even an INSERT of no rows writes an AUTOINCREMENT table's sqlite_sequence entry.
	if src.t.Rows == 0 {
		return 0, nil
	}
	var into, from []string
	var args []any
	if !dst.ct.withoutRowid && !src.ct.withoutRowid && !dst.hasRowidAlias() {
		into, from = append(into, "rowid"), append(from, "rowid")
	}
	for _, c := range dst.t.Columns {
		if s, ok := src.t.column(c.Name); ok && c.Hidden == 0 && s.Hidden == 0 {
			into, from = append(into, quoteIdent(c.Name)), append(from, quoteIdent(s.Name))
		}
	}
	for _, e := range extra {
		if e.Value != nil {
			into, from, args = append(into, quoteIdent(e.Column)), append(from, "?"), append(args, e.Value)
		}
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO "+dst.qualified+" ("+strings.Join(into, ", ")+
		") SELECT "+strings.Join(from, ", ")+" FROM "+src.qualified, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sequence reads a table's sqlite_sequence entry in db ("main" or the release's).
func sequence(ctx context.Context, tx *sql.Tx, db, table string) (int64, bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(db)+
		`.sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'`).Scan(&n)
	if err != nil || n == 0 {
		return 0, false, err
	}
	var seq int64
	err = tx.QueryRowContext(ctx, `SELECT seq FROM `+quoteIdent(db)+`.sqlite_sequence WHERE name = ?`, table).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read sqlite_sequence of %q: %w", table, err)
	}
	return seq, true, nil
}

// raiseSequence makes the site's sqlite_sequence entry of a table at least seq.
func raiseSequence(ctx context.Context, tx *sql.Tx, table string, seq int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE main.sqlite_sequence SET seq = max(seq, ?) WHERE name = ?`, seq, table)
	if err != nil {
		return fmt.Errorf("set sqlite_sequence of %q: %w", table, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO main.sqlite_sequence (name, seq) VALUES (?, ?)`, table, seq); err != nil {
		return fmt.Errorf("set sqlite_sequence of %q: %w", table, err)
	}
	return nil
}

// foreignKeyCheck fails when the table has a row whose foreign key finds no parent.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx, table string) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA main.foreign_key_check("+quoteIdent(table)+")")
	if err != nil {
		return fmt.Errorf("foreign_key_check: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("foreign_key_check: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("foreign_key_check reports %d rows whose foreign key has no parent row", n)
	}
	return nil
}

// integrityCheck runs SQLite's own check of the site's database before the commit.
func integrityCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA main.integrity_check(20)")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("integrity_check: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("integrity_check: %s", strings.Join(msgs, "; "))
	}
	return nil
}
