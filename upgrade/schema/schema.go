package schema

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go: the CLI builds without cgo
)

// Schema is a SQLite database's tables and indexes, read without changing the file.
type Schema struct {
	Tables  map[string]*Table
	Indexes map[string]*Index // explicit indexes only (sqlite_master.sql not NULL)
	// Migrations are the django_migrations rows in the order they were applied; nil when
	// the table is absent.
	Migrations []Migration
}

// Table is one table: its CREATE TABLE text, columns in order, and how many rows it holds.
type Table struct {
	Name, SQL string
	Columns   []Column
	Rows      int64
}

// Column is one column as PRAGMA table_xinfo reports it.
type Column struct {
	Name, Type string
	NotNull    bool
	Default    *string // SQL text of the DEFAULT, nil if none
	PK         int     // 1-based position in the primary key, 0 if not in it
	// Hidden is table_xinfo's: 0 an ordinary column, 1 hidden (virtual table), 2 a
	// VIRTUAL and 3 a STORED generated column. Generated columns cannot be written.
	Hidden int
}

// Index is one explicit index.
type Index struct{ Name, Table, SQL string }

// Migration is one django_migrations row.
type Migration struct{ App, Name string }

func (m Migration) String() string { return m.App + "." + m.Name }

// ErrNotSQLite is wrapped by Read and Apply when a file is not a SQLite database.
var ErrNotSQLite = errors.New("not a SQLite database")

// Read opens path read-only and reads its schema and each table's row count. It never
// writes: not the file, not a -journal, -wal or -shm beside it.
func Read(ctx context.Context, path string) (*Schema, error) {
	uri, err := readOnlyURI(path)
	if err != nil {
		return nil, fmt.Errorf("read schema of %q: %w", path, err)
	}
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return nil, fmt.Errorf("read schema of %q: %w", path, err)
	}
	defer db.Close()
	// One read transaction: every count and column from the same state of the file.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read schema of %q: %w", path, err)
	}
	defer tx.Rollback()
	s, err := readSchema(ctx, tx, "main")
	if err != nil {
		return nil, fmt.Errorf("read schema of %q: %w", path, err)
	}
	return s, nil
}

// querier is what reading needs of a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readSchema reads the schema of one database of a connection: "main" or an attached one.
func readSchema(ctx context.Context, q querier, db string) (*Schema, error) {
	s := &Schema{Tables: map[string]*Table{}, Indexes: map[string]*Index{}}
	// Everything is read before the next query: a one-connection pool would otherwise
	// wait on itself.
	rows, err := q.QueryContext(ctx,
		`SELECT type, name, tbl_name, sql FROM `+quoteIdent(db)+`.sqlite_master
		 WHERE type IN ('table', 'index') ORDER BY name`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var typ, name, table string
		var text sql.NullString
		if err := rows.Scan(&typ, &name, &table, &text); err != nil {
			rows.Close()
			return nil, err
		}
		switch {
		case typ == "table":
			s.Tables[name] = &Table{Name: name, SQL: text.String}
		case text.Valid:
			s.Indexes[name] = &Index{Name: name, Table: table, SQL: text.String}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	for _, t := range s.Tables {
		if t.Columns, err = readColumns(ctx, q, db, t.Name); err != nil {
			return nil, fmt.Errorf("columns of table %q: %w", t.Name, err)
		}
		err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(db)+`.`+quoteIdent(t.Name)).Scan(&t.Rows)
		if err != nil {
			return nil, fmt.Errorf("count rows of table %q: %w", t.Name, err)
		}
	}
	if s.table(migrationsTable) != nil {
		if s.Migrations, err = readMigrations(ctx, q, db); err != nil {
			return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
		}
	}
	return s, nil
}

func readColumns(ctx context.Context, q querier, db, table string) ([]Column, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid`,
		table, db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		var def sql.NullString
		if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &def, &c.PK, &c.Hidden); err != nil {
			return nil, err
		}
		if def.Valid {
			c.Default = &def.String
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

const migrationsTable = "django_migrations"

func readMigrations(ctx context.Context, q querier, db string) ([]Migration, error) {
	rows, err := q.QueryContext(ctx, `SELECT app, name FROM `+quoteIdent(db)+`.`+migrationsTable+` ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ms := []Migration{}
	for rows.Next() {
		var m Migration
		if err := rows.Scan(&m.App, &m.Name); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// table finds a table by SQLite's rule that names are case-insensitive.
func (s *Schema) table(name string) *Table {
	if t, ok := s.Tables[name]; ok {
		return t
	}
	for n, t := range s.Tables {
		if strings.EqualFold(n, name) {
			return t
		}
	}
	return nil
}

func (s *Schema) hasIndex(name string) bool {
	if _, ok := s.Indexes[name]; ok {
		return true
	}
	for n := range s.Indexes {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (t *Table) column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// IsRuntimeFormTable reports whether name is one of the tables OMFLOW makes at run time
// per form: omformmodel_omdata_<32 lowercase hex>, alone or followed by "_" and anything.
func IsRuntimeFormTable(name string) bool {
	rest, ok := strings.CutPrefix(name, "omformmodel_omdata_")
	if !ok || len(rest) < 32 {
		return false
	}
	for i := range 32 {
		if c := rest[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return len(rest) == 32 || rest[32] == '_'
}

// internal reports SQLite's own tables (sqlite_sequence, sqlite_stat1, ...): SQLite makes
// them, they are not schema to reconcile.
func internal(name string) bool {
	return len(name) >= 7 && strings.EqualFold(name[:7], "sqlite_")
}

// sqliteHeader starts every SQLite 3 database file.
const sqliteHeader = "SQLite format 3\x00"

// checkHeader reads the first 100 bytes (SQLite's header) of path. An empty file is a
// database to SQLite, but never an OMFLOW one; refusing it keeps SQLite from making one
// of a wrong path. wal reports a database in WAL mode (read and write versions 2).
func checkHeader(path string) (wal bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || !bytes.HasPrefix(h[:], []byte(sqliteHeader)) {
		return false, ErrNotSQLite
	}
	return h[18] == 2 || h[19] == 2, nil
}

// fileURI makes a SQLite URI filename (https://www.sqlite.org/uri.html) for path. The
// driver passes a name that starts with "file:" to SQLite whole, and SQLite ends the path
// at '?' or '#' and decodes %HH, so those three are escaped. An absolute path with
// forward slashes works on both systems: SQLite drops the '/' before "C:", and a
// Windows UNC path \\server\share keeps its two leading slashes after the empty
// authority.
func fileURI(path string, params string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(p)
	return "file://" + p + "?" + params, nil
}

// readOnlyURI opens a database so that SQLite cannot write anything. A WAL database
// without a -wal file beside it is opened immutable: read-only alone would still make
// its -shm and -wal files.
func readOnlyURI(path string) (string, error) {
	wal, err := checkHeader(path)
	if err != nil {
		return "", err
	}
	params := "mode=ro"
	if wal {
		if _, err := os.Stat(path + "-wal"); errors.Is(err, os.ErrNotExist) {
			params += "&immutable=1"
		}
	}
	return fileURI(path, params)
}
