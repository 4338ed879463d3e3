package schema

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func TestRead(t *testing.T) {
	path := makeDB(t, "db.omflow", fixture(t, "read.sql"))
	s := read(t, path)

	var tables []string
	for name := range s.Tables {
		tables = append(tables, name)
	}
	sort.Strings(tables)
	wantTables := []string{"django_migrations", "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba", "omuser_omuser", "sqlite_sequence"}
	if !reflect.DeepEqual(tables, wantTables) {
		t.Errorf("tables %q, want %q (no view)", tables, wantTables)
	}

	users := s.Tables["omuser_omuser"]
	wantCols := []Column{
		// SQLite gives its own type names in capitals, whatever the DDL wrote.
		{Name: "id", Type: "INTEGER", NotNull: true, PK: 1},
		{Name: "username", Type: "varchar(150)", NotNull: true},
		{Name: "is_active", Type: "bool", NotNull: true, Default: ptr("1")},
		{Name: "note", Type: "TEXT", Default: ptr("'a, b'")},
		{Name: "joined", Type: "datetime", NotNull: true, Default: ptr("CURRENT_TIMESTAMP")},
	}
	if !reflect.DeepEqual(users.Columns, wantCols) {
		t.Errorf("columns\n got %+v\nwant %+v", users.Columns, wantCols)
	}
	if !strings.HasPrefix(users.SQL, `CREATE TABLE "omuser_omuser" (`) {
		t.Errorf("SQL %q", users.SQL)
	}

	rows := map[string]int64{}
	for name, tb := range s.Tables {
		rows[name] = tb.Rows
	}
	wantRows := map[string]int64{"django_migrations": 2, "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba": 3, "omuser_omuser": 2, "sqlite_sequence": 3}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("rows %v, want %v", rows, wantRows)
	}

	// The UNIQUE constraint's sqlite_autoindex_ has no SQL: it comes with the table.
	wantIndexes := map[string]*Index{"omuser_omuser_is_active_1a2b3c4d": {
		Name: "omuser_omuser_is_active_1a2b3c4d", Table: "omuser_omuser",
		SQL: `CREATE INDEX "omuser_omuser_is_active_1a2b3c4d" ON "omuser_omuser" ("is_active")`,
	}}
	if !reflect.DeepEqual(s.Indexes, wantIndexes) {
		t.Errorf("indexes %+v", s.Indexes)
	}

	wantMigrations := []Migration{{"contenttypes", "0001_initial"}, {"auth", "0001_initial"}}
	if !reflect.DeepEqual(s.Migrations, wantMigrations) {
		t.Errorf("migrations %v, want %v", s.Migrations, wantMigrations)
	}
	if empty := read(t, makeDB(t, "db.omflow")); empty.Migrations != nil || len(empty.Tables) != 0 {
		t.Errorf("a database without tables: %+v", empty)
	}
}

// Read must leave the file exactly as it was, and make no file beside it: it runs
// before the update is decided, and on a release's files.
func TestReadNeverWrites(t *testing.T) {
	tests := []struct {
		name    string
		journal string // PRAGMA journal_mode the database is left in
	}{
		{"rollback journal", "DELETE"},
		{"write-ahead log", "WAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := makeDB(t, "db.omflow", fixture(t, "read.sql"), "PRAGMA journal_mode = "+tt.journal)
			onlyFiles(t, filepath.Dir(path), "db.omflow")
			before := stateOf(t, path)
			s := read(t, path)
			if len(s.Tables) == 0 {
				t.Fatal("no tables read")
			}
			if after := stateOf(t, path); after != before {
				t.Errorf("file changed: mtime %v -> %v, bytes equal %v", before.mtime, after.mtime, before.bytes == after.bytes)
			}
			onlyFiles(t, filepath.Dir(path), "db.omflow")
		})
	}
}

func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{"text file", write("settings.py", "DATABASES = {}\n"+strings.Repeat("#\n", 100)), ErrNotSQLite},
		{"empty file", write("empty.omflow", ""), ErrNotSQLite},
		{"short file", write("short.omflow", sqliteHeader), ErrNotSQLite},
		{"missing file", filepath.Join(dir, "missing.omflow"), fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(context.Background(), tt.path)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %v, want %v naming %s", err, tt.want, tt.path)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.omflow")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read made the missing file: %v", err)
	}
}

// SQLite's URI filenames end the path at '?' or '#' and decode '%': a path holding them
// must still open that file and no other.
func TestReadOddPaths(t *testing.T) {
	names := []string{"a#b", "100%25 sure", "with space", "a%3Fb"}
	if runtime.GOOS != "windows" {
		names = append(names, "what?mode=rw", "q?")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, name+".omflow")
			execDB(t, path, fixture(t, "read.sql"))
			before := stateOf(t, path)
			s := read(t, path)
			if s.Tables["omuser_omuser"] == nil {
				t.Errorf("tables %v", s.Tables)
			}
			if after := stateOf(t, path); after != before {
				t.Error("file changed")
			}
			onlyFiles(t, dir, name+".omflow")
		})
	}
}

func TestFileURI(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the paths below are Unix paths")
	}
	tests := []struct{ path, want string }{
		{"/srv/omflow/server/db.omflow", "file:///srv/omflow/server/db.omflow?mode=ro"},
		{"/a?b#c%d/db", "file:///a%3Fb%23c%25d/db?mode=ro"},
	}
	for _, tt := range tests {
		if got, err := fileURI(tt.path, "mode=ro"); err != nil || got != tt.want {
			t.Errorf("fileURI(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}

func TestIsRuntimeFormTable(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba", true},
		{"omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba_datano", true},
		{"omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba_valuehistory", true},
		{"omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba_", true},
		{"omformmodel_omdata_7F811B732DDF44D4995AEFFDC56AD2BA", false},
		{"omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2b", false},
		{"omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2bab", false},
		{"omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2bx_datano", false},
		{"omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2baXdatano", false},
		{"omformmodel_omdata", false},
		{"omformmodel_omdata_", false},
		{"omformflow_flowactive", false},
		{"xomformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba", false},
	}
	for _, tt := range tests {
		if got := IsRuntimeFormTable(tt.name); got != tt.want {
			t.Errorf("IsRuntimeFormTable(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
