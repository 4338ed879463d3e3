package schema

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// makeDB creates the SQLite file name in a fresh temporary directory with the
// statements, with the same driver the package uses.
func makeDB(t *testing.T, name string, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	execDB(t, path, stmts...)
	return path
}

// execDB runs statements on the database at path, making it if need be.
func execDB(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db := openDB(t, path, "mode=rwc")
	defer db.Close()
	// An empty database file would be refused as not SQLite: give every one a page.
	if _, err := db.Exec("PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// openDB opens path by a URI, as the package does: a plain name would lose a '?'.
func openDB(t *testing.T, path, params string) *sql.DB {
	t.Helper()
	uri, err := fileURI(path, params)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// fixture reads testdata/name: a script of statements.
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// queryStrings runs a query whose every column is text and gives each row joined by "|".
func queryStrings(t *testing.T, path, query string, args ...any) []string {
	t.Helper()
	db := openDB(t, path, "mode=ro")
	defer db.Close()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = v.String
			if !v.Valid {
				parts[i] = "<NULL>"
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpRows gives a table's rows in rowid order, the named columns through quote(): the
// exact value and its storage class ('1' and 1 differ, a blob shows as X'..').
func dumpRows(t *testing.T, path, table string, columns []string) []string {
	t.Helper()
	sel := []string{"quote(rowid)"}
	for _, c := range columns {
		sel = append(sel, "quote("+quoteIdent(c)+")")
	}
	return queryStrings(t, path, "SELECT "+strings.Join(sel, " || ',' || ")+" FROM "+quoteIdent(table)+" ORDER BY rowid")
}

// snapshot is every table's rows, by the columns it had when taken.
type snapshot map[string]tableRows

type tableRows struct {
	columns []string
	rows    []string
}

func takeSnapshot(t *testing.T, path string) snapshot {
	t.Helper()
	snap := snapshot{}
	for name, tb := range read(t, path).Tables {
		var cols []string
		for _, c := range tb.Columns {
			cols = append(cols, c.Name)
		}
		snap[name] = tableRows{cols, dumpRows(t, path, name, cols)}
	}
	return snap
}

// read is Read that fails the test on an error.
func read(t *testing.T, path string) *Schema {
	t.Helper()
	s, err := Read(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fileState is what must not change of a file that is only read.
type fileState struct {
	bytes string
	mtime time.Time
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{string(b), fi.ModTime()}
}

// onlyFiles fails unless dir holds exactly the named files: no -journal, -wal or -shm.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("files in %s: %q, want %q", dir, got, names)
	}
}
