package schema

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Django's way of writing tables, as OMFLOW's db.omflow has them.
const (
	itemTable  = `CREATE TABLE "app_item" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL)`
	itemRows   = `INSERT INTO "app_item" ("name") VALUES ('first'), ('second'), ('third')`
	migrations = `CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL)`
	formTable  = `CREATE TABLE "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NULL)`
	formRows   = `INSERT INTO "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba" ("title") VALUES ('a'), (x'00ff'), (NULL), (1.5)`
)

// withColumns is itemTable with more column definitions.
func withColumns(defs ...string) string {
	return strings.TrimSuffix(itemTable, ")") + ", " + strings.Join(defs, ", ") + ")"
}

// unsafeAt is the *UnsafeError a case wants: table, column and a part of why.
type unsafeAt struct{ table, column, why string }

// The rules of the package doc, each on real SQLite files: Plan must say what Apply then
// does, Apply must do it, and whatever a case adds, every row, index, trigger and view
// of the site's is still there afterwards (see checkKept).
func TestApply(t *testing.T) {
	tests := []struct {
		name          string
		site, release []string
		values        Values
		want          *Changes
		unsafe        []unsafeAt
		check         func(t *testing.T, site string)
	}{
		{
			name:    "nothing to do",
			site:    []string{itemTable, itemRows, migrations},
			release: []string{itemTable, migrations},
			want:    &Changes{},
		},
		{
			name:    "column added by ALTER, NULL",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"api_path" varchar(500) NULL`)},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "api_path", Definition: `"api_path" varchar(500) NULL`}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT id, name, quote(api_path) FROM app_item`, "1|first|NULL", "2|second|NULL", "3|third|NULL")
				wantRows(t, site, `SELECT sql FROM sqlite_master WHERE name = 'app_item'`, withColumns(`"api_path" varchar(500) NULL`))
			},
		},
		{
			name:    "NOT NULL column with a DEFAULT, by ALTER",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"flag" bool NOT NULL DEFAULT 0`, `"note" text NOT NULL DEFAULT 'a, ''b'')'`)},
			want: &Changes{Columns: []ColumnAdd{
				{Table: "app_item", Column: "flag", Definition: `"flag" bool NOT NULL DEFAULT 0`},
				{Table: "app_item", Column: "note", Definition: `"note" text NOT NULL DEFAULT 'a, ''b'')'`},
			}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT id, quote(flag), note FROM app_item`, "1|0|a, 'b')", "2|0|a, 'b')", "3|0|a, 'b')")
			},
		},
		{
			name:    "awkward column name and default, by ALTER",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns("`we,ird \"x\"` varchar(10) NULL DEFAULT 'a,(b' COLLATE NOCASE")},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: `we,ird "x"`, Definition: "`we,ird \"x\"` varchar(10) NULL DEFAULT 'a,(b' COLLATE NOCASE"}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT count(*) FROM app_item WHERE "we,ird ""x""" = 'A,(B'`, "3")
			},
		},
		{
			name:    "REFERENCES column with a default, by ALTER (foreign keys are off)",
			site:    []string{itemTable, itemRows},
			release: []string{`CREATE TABLE "app_owner" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`, `INSERT INTO app_owner DEFAULT VALUES`, withColumns(`"owner_id" integer NOT NULL DEFAULT 1 REFERENCES "app_owner" ("id") DEFERRABLE INITIALLY DEFERRED`)},
			want: &Changes{
				Tables:  []TableAdd{{Name: "app_owner", Rows: 1}},
				Columns: []ColumnAdd{{Table: "app_item", Column: "owner_id", Definition: `"owner_id" integer NOT NULL DEFAULT 1 REFERENCES "app_owner" ("id") DEFERRABLE INITIALLY DEFERRED`}},
			},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `PRAGMA foreign_key_check`)
			},
		},
		{
			name:    "NOT NULL column without default on an empty table: rebuilt, no value needed",
			site:    []string{itemTable},
			release: []string{withColumns(`"language_package" text NOT NULL`)},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "language_package", Definition: `"language_package" text NOT NULL`, Rebuild: true}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT sql FROM sqlite_master WHERE name = 'app_item'`, withColumns(`"language_package" text NOT NULL`))
			},
		},
		{
			name: "a UNIQUE column: rebuilt, a NOT NULL column with it gets the value, keeping indexes, triggers, views, sequence and children",
			site: []string{
				itemTable, itemRows,
				`INSERT INTO app_item (name) VALUES ('deleted')`, `DELETE FROM app_item WHERE name = 'deleted'`,
				`CREATE INDEX "app_item_name_1234abcd" ON "app_item" ("name")`,
				`CREATE UNIQUE INDEX "site_own_index" ON "app_item" ("name" DESC)`,
				`CREATE TABLE "app_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "msg" text NOT NULL)`,
				`CREATE TRIGGER "app_item_log" AFTER UPDATE ON "app_item" BEGIN INSERT INTO app_log (msg) VALUES (new.name); END`,
				`CREATE VIEW "app_item_names" AS SELECT name FROM app_item`,
				`CREATE TABLE "app_child" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "item_id" integer NOT NULL REFERENCES "app_item" ("id") DEFERRABLE INITIALLY DEFERRED)`,
				`INSERT INTO app_child (item_id) VALUES (1), (3)`,
			},
			release: []string{
				withColumns(`"language_package" text NOT NULL`, `"extra" integer NULL UNIQUE`),
				`CREATE INDEX "app_item_name_1234abcd" ON "app_item" ("name")`,
				`CREATE TABLE "app_child" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "item_id" integer NOT NULL REFERENCES "app_item" ("id") DEFERRABLE INITIALLY DEFERRED)`,
			},
			values: Values{"app_item.language_package": "{}"},
			want: &Changes{Columns: []ColumnAdd{
				{Table: "app_item", Column: "language_package", Definition: `"language_package" text NOT NULL`, Rebuild: true, Value: "{}"},
				{Table: "app_item", Column: "extra", Definition: `"extra" integer NULL UNIQUE`, Rebuild: true},
			}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT id, name, language_package, quote(extra) FROM app_item`, "1|first|{}|NULL", "2|second|{}|NULL", "3|third|{}|NULL")
				// The site's sequence was past its largest id: 5 must not be handed out twice.
				wantRows(t, site, `SELECT seq FROM sqlite_sequence WHERE name = 'app_item'`, "4")
				wantRows(t, site, `SELECT name FROM app_item_names ORDER BY name`, "first", "second", "third")
				wantRows(t, site, `PRAGMA foreign_key_check`)
				execDB(t, site, `UPDATE app_item SET name = 'renamed' WHERE id = 1`)
				wantRows(t, site, `SELECT msg FROM app_log`, "renamed")
			},
		},
		{
			name:    "NOT NULL column without default on rows, no value: refused",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"language_package" text NOT NULL`)},
			unsafe:  []unsafeAt{{"app_item", "language_package", "Django's model gives no default"}},
		},
		{
			name:    "a nil value is no value",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"language_package" text NOT NULL`)},
			values:  Values{"app_item.language_package": nil},
			unsafe:  []unsafeAt{{"app_item", "language_package", "Django's model gives no default"}},
		},
		{
			name:    "a site-only column forbids a rebuild",
			site:    []string{withColumns(`"legacy" text NULL`), itemRows},
			release: []string{withColumns(`"code" text NULL UNIQUE`)},
			unsafe:  []unsafeAt{{"app_item", "legacy", "lose"}},
		},
		{
			name:    "a site-only column even when the table is empty",
			site:    []string{withColumns(`"legacy" text NULL`)},
			release: []string{withColumns(`"language_package" text NOT NULL`)},
			unsafe:  []unsafeAt{{"app_item", "legacy", "lose"}},
		},
		{
			name:    "a site-only column stays when ALTER does",
			site:    []string{withColumns(`"legacy" text NULL`), itemRows},
			release: []string{withColumns(`"api_path" varchar(500) NULL`)},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "api_path", Definition: `"api_path" varchar(500) NULL`}}},
		},
		{
			name:    "several refusals at once",
			site:    []string{withColumns(`"legacy" text NULL`), itemRows},
			release: []string{withColumns(`"language_package" text NOT NULL`, `"code" varchar(5) NOT NULL DEFAULT 'x' UNIQUE`)},
			unsafe: []unsafeAt{
				{"app_item", "legacy", "lose"},
				{"app_item", "language_package", "Django's model gives no default"},
				{"app_item", "code", "UNIQUE"},
			},
		},
		{
			name:    "UNIQUE column without default: rows get NULL, which does not collide",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"uuid" char(32) NULL UNIQUE`)},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "uuid", Definition: `"uuid" char(32) NULL UNIQUE`, Rebuild: true}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'app_item' AND sql IS NULL`, "1")
			},
		},
		{
			name:    "UNIQUE column with a default on several rows: refused",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"code" varchar(5) NOT NULL DEFAULT 'x' UNIQUE`)},
			unsafe:  []unsafeAt{{"app_item", "code", "UNIQUE"}},
		},
		{
			name:    "UNIQUE by a table constraint with a value on several rows: refused",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"code" varchar(5) NOT NULL`, `CONSTRAINT "one_code" UNIQUE ("code")`)},
			values:  Values{"app_item.code": "x"},
			unsafe:  []unsafeAt{{"app_item", "code", "UNIQUE"}},
		},
		{
			name:    "UNIQUE column with a value on one row",
			site:    []string{itemTable, `INSERT INTO app_item (name) VALUES ('only')`},
			release: []string{withColumns(`"code" varchar(5) NOT NULL UNIQUE`)},
			values:  Values{"app_item.code": "x"},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "code", Definition: `"code" varchar(5) NOT NULL UNIQUE`, Rebuild: true, Value: "x"}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT name, code FROM app_item`, "only|x")
			},
		},
		{
			name:    "a table constraint over the added column and another: rebuilt",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"code" varchar(5) NULL`, `UNIQUE ("name", "code")`)},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "code", Definition: `"code" varchar(5) NULL`, Rebuild: true}}},
		},
		{
			name:    "PRIMARY KEY column on a table with rows: refused",
			site:    []string{`CREATE TABLE "app_log" ("msg" text NOT NULL)`, `INSERT INTO app_log VALUES ('a')`},
			release: []string{`CREATE TABLE "app_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "msg" text NOT NULL)`},
			unsafe:  []unsafeAt{{"app_log", "id", "PRIMARY KEY"}},
		},
		{
			name:    "PRIMARY KEY column on an empty table: rebuilt",
			site:    []string{`CREATE TABLE "app_log" ("msg" text NOT NULL)`},
			release: []string{`CREATE TABLE "app_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "msg" text NOT NULL)`},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_log", Column: "id", Definition: `"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT`, Rebuild: true}}},
		},
		{
			name:    "a table without a rowid column keeps its rowids when rebuilt",
			site:    []string{`CREATE TABLE "app_log" ("msg" text NOT NULL)`, `INSERT INTO app_log (rowid, msg) VALUES (5, 'five'), (9, 'nine')`},
			release: []string{`CREATE TABLE "app_log" ("msg" text NOT NULL, "at" datetime NOT NULL, UNIQUE ("msg", "at"))`},
			values:  Values{"app_log.at": "2020-08-14 00:00:00"},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_log", Column: "at", Definition: `"at" datetime NOT NULL`, Rebuild: true, Value: "2020-08-14 00:00:00"}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT rowid, msg, quote(at) FROM app_log`, "5|five|'2020-08-14 00:00:00'", "9|nine|'2020-08-14 00:00:00'")
			},
		},
		{
			name:    "values of every database type, each the column's DEFAULT",
			site:    []string{itemTable, `INSERT INTO app_item (name) VALUES ('only')`},
			release: []string{withColumns(`"i" integer NOT NULL`, `"f" real NOT NULL`, `"b" blob NOT NULL`, `"s" text NOT NULL`)},
			values:  Values{"app_item.i": int64(7), "app_item.f": 0.5, "app_item.b": []byte{0, 0xff}, "app_item.s": ""},
			want: &Changes{Columns: []ColumnAdd{
				{Table: "app_item", Column: "i", Definition: `"i" integer NOT NULL DEFAULT 7`, Value: int64(7)},
				{Table: "app_item", Column: "f", Definition: `"f" real NOT NULL DEFAULT 0.5`, Value: 0.5},
				{Table: "app_item", Column: "b", Definition: `"b" blob NOT NULL DEFAULT X'00ff'`, Value: []byte{0, 0xff}},
				{Table: "app_item", Column: "s", Definition: `"s" text NOT NULL DEFAULT ''`, Value: ""},
			}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT quote(i), quote(f), quote(b), quote(s) FROM app_item`, "7|0.5|X'00FF'|''")
				// A row inserted by code that knows nothing of the columns (the previous
				// version after a rollback -files-only) gets the defaults.
				execDB(t, site, `INSERT INTO app_item (name) VALUES ('old code')`)
				wantRows(t, site, `SELECT quote(i), quote(s) FROM app_item WHERE name = 'old code'`, "7|''")
			},
		},
		{
			name:    "default CURRENT_TIMESTAMP: rebuilt",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"created" datetime NULL DEFAULT CURRENT_TIMESTAMP`)},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "created", Definition: `"created" datetime NULL DEFAULT CURRENT_TIMESTAMP`, Rebuild: true}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT count(*) FROM app_item WHERE created IS NOT NULL`, "3")
			},
		},
		{
			name:    "default expression: rebuilt",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"n" integer NULL DEFAULT (1 + 1)`)},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "n", Definition: `"n" integer NULL DEFAULT (1 + 1)`, Rebuild: true}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT n FROM app_item`, "2", "2", "2")
			},
		},
		{
			name:    "a type change alone is left alone",
			site:    []string{itemTable, itemRows},
			release: []string{`CREATE TABLE "app_item" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" integer NULL)`},
			want:    &Changes{},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT sql FROM sqlite_master WHERE name = 'app_item'`, itemTable)
			},
		},
		{
			name:    "a type change forbids a rebuild of rows",
			site:    []string{itemTable, itemRows},
			release: []string{`CREATE TABLE "app_item" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" integer NOT NULL, "code" text NULL UNIQUE)`},
			unsafe:  []unsafeAt{{"app_item", "name", "convert"}},
		},
		{
			name:    "new table with rows and its AUTOINCREMENT sequence",
			site:    []string{`CREATE TABLE "plain" ("x" text)`},
			release: []string{itemTable, itemRows, `INSERT INTO app_item (name) VALUES ('gone')`, `DELETE FROM app_item WHERE name = 'gone'`},
			want:    &Changes{Tables: []TableAdd{{Name: "app_item", Rows: 3}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT sql FROM sqlite_master WHERE name = 'app_item'`, itemTable)
				wantRows(t, site, `SELECT id, name FROM app_item`, "1|first", "2|second", "3|third")
				wantRows(t, site, `SELECT name, seq FROM sqlite_sequence`, "app_item|4")
			},
		},
		{
			name:    "new AUTOINCREMENT table beside the site's own",
			site:    []string{`CREATE TABLE "app_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`, `INSERT INTO app_log DEFAULT VALUES`},
			release: []string{`CREATE TABLE "app_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`, itemTable, `INSERT INTO app_item (id, name) VALUES (7, 'seven')`},
			want:    &Changes{Tables: []TableAdd{{Name: "app_item", Rows: 1}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT name, seq FROM sqlite_sequence ORDER BY name`, "app_item|7", "app_log|1")
			},
		},
		{
			name:    "new table without a rowid column keeps its rowids",
			site:    []string{itemTable},
			release: []string{itemTable, `CREATE TABLE "app_tag" ("label" text NULL)`, `INSERT INTO app_tag (rowid, label) VALUES (5, 'five'), (9, NULL)`},
			want:    &Changes{Tables: []TableAdd{{Name: "app_tag", Rows: 2}}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT rowid, quote(label) FROM app_tag`, "5|'five'", "9|NULL")
			},
		},
		{
			name: "new indexes, on the site's tables and on new ones",
			site: []string{itemTable, itemRows, `CREATE INDEX "site_only_index" ON "app_item" ("id", "name")`},
			release: []string{
				itemTable, `CREATE INDEX "app_item_name_1234abcd" ON "app_item" ("name")`,
				`CREATE UNIQUE INDEX "app_item_name_uniq" ON "app_item" ("name") WHERE name <> ''`,
				`CREATE TABLE "app_tag" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "item_id" integer NULL)`,
				`CREATE INDEX "app_tag_item_id_5678abcd" ON "app_tag" ("item_id")`,
			},
			want: &Changes{
				Tables: []TableAdd{{Name: "app_tag"}},
				Indexes: []IndexAdd{
					{Name: "app_item_name_1234abcd", Table: "app_item"},
					{Name: "app_item_name_uniq", Table: "app_item"},
					{Name: "app_tag_item_id_5678abcd", Table: "app_tag"},
				},
			},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name`,
					"app_item_name_1234abcd", "app_item_name_uniq", "app_tag_item_id_5678abcd", "site_only_index")
			},
		},
		{
			name: "runtime form tables: the site's untouched, the release's not made",
			site: []string{itemTable, formTable, formRows},
			release: []string{
				itemTable,
				// The release's sample form, and a same-named one with a column the site's
				// lacks: neither is schema.
				`CREATE TABLE "omformmodel_omdata_dc33fb340034418c8fbb3baf15525e86" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`,
				`CREATE TABLE "omformmodel_omdata_dc33fb340034418c8fbb3baf15525e86_datano" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)`,
				`CREATE INDEX "omformmodel_omdata_dc33fb340034418c8fbb3baf15525e86_x_1234abcd" ON "omformmodel_omdata_dc33fb340034418c8fbb3baf15525e86" ("id")`,
				`CREATE TABLE "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NULL, "more" text NOT NULL)`,
				`CREATE INDEX "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba_title_1234" ON "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba" ("title")`,
			},
			want: &Changes{},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT name FROM sqlite_master ORDER BY name`, "app_item", "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba", "sqlite_sequence")
				wantRows(t, site, `SELECT sql FROM sqlite_master WHERE name LIKE 'omformmodel%'`, formTable)
			},
		},
		{
			name:    "site-only tables and indexes are left alone",
			site:    []string{itemTable, itemRows, `CREATE TABLE "site_table" ("v" blob)`, `INSERT INTO site_table VALUES (x'0102'), ('t'), (3)`, `CREATE INDEX "site_index" ON "site_table" ("v")`},
			release: []string{withColumns(`"api_path" varchar(500) NULL`)},
			want:    &Changes{Columns: []ColumnAdd{{Table: "app_item", Column: "api_path", Definition: `"api_path" varchar(500) NULL`}}},
		},
		{
			name: "django_migrations rows the site lacks are recorded",
			site: []string{
				migrations,
				`INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0001_initial', '2020-01-01 00:00:00'), ('site', '0001_own', '2020-02-02 00:00:00')`,
			},
			release: []string{
				migrations,
				`INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0001_initial', '2020-08-05 00:00:00'), ('omflow', '0002_language', '2020-08-14 01:02:03'), ('auth', '0002_more', '2020-08-14 01:02:04')`,
			},
			want: &Changes{Migrations: []string{"omflow.0002_language", "auth.0002_more"}},
			check: func(t *testing.T, site string) {
				wantRows(t, site, `SELECT id, app, name, quote(applied) FROM django_migrations`,
					"1|auth|0001_initial|'2020-01-01 00:00:00'", "2|site|0001_own|'2020-02-02 00:00:00'",
					"3|omflow|0002_language|'2020-08-14 01:02:03'", "4|auth|0002_more|'2020-08-14 01:02:04'")
			},
		},
		{
			name:    "no django_migrations in the release: nothing recorded",
			site:    []string{migrations, `INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0001_initial', '2020-01-01')`},
			release: []string{itemTable},
			want:    &Changes{Tables: []TableAdd{{Name: "app_item"}}},
		},
		{
			name:    "names are matched without case, as SQLite does",
			site:    []string{`CREATE TABLE "APP_ITEM" ("ID" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "Name" varchar(100) NOT NULL)`, `CREATE INDEX "APP_IDX" ON "APP_ITEM" ("Name")`},
			release: []string{withColumns(`"api_path" varchar(500) NULL`), `CREATE INDEX "app_idx" ON "app_item" ("name")`},
			want:    &Changes{Columns: []ColumnAdd{{Table: "APP_ITEM", Column: "api_path", Definition: `"api_path" varchar(500) NULL`}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			site := makeDB(t, "db.omflow", tt.site...)
			release := makeDB(t, "db.omflow", tt.release...)
			siteBefore, releaseBefore := stateOf(t, site), stateOf(t, release)
			kept := takeKept(t, site)

			plan, planErr := Plan(read(t, site), read(t, release), tt.values)
			applied, applyErr := Apply(ctx, site, release, tt.values)

			if stateOf(t, release) != releaseBefore {
				t.Error("the release's file changed")
			}
			onlyFiles(t, filepath.Dir(site), "db.omflow")
			if tt.unsafe != nil {
				wantUnsafe(t, "Plan", planErr, tt.unsafe)
				wantUnsafe(t, "Apply", applyErr, tt.unsafe)
				if stateOf(t, site).bytes != siteBefore.bytes {
					t.Error("a refused Apply changed the site's file")
				}
				return
			}
			if planErr != nil || applyErr != nil {
				t.Fatalf("Plan: %v\nApply: %v", planErr, applyErr)
			}
			if !reflect.DeepEqual(plan, tt.want) {
				t.Errorf("Plan\n got %+v\nwant %+v", plan, tt.want)
			}
			if !reflect.DeepEqual(applied, tt.want) {
				t.Errorf("Apply\n got %+v\nwant %+v", applied, tt.want)
			}
			if tt.want.Empty() && stateOf(t, site).bytes != siteBefore.bytes {
				t.Error("nothing to do, and the site's file changed")
			}
			checkKept(t, site, kept)
			if again, err := Plan(read(t, site), read(t, release), tt.values); err != nil || !again.Empty() {
				t.Errorf("after Apply, Plan gives %+v, %v; want nothing", again, err)
			}
			if tt.check != nil {
				tt.check(t, site)
			}
		})
	}
}

// wantRows runs a query on the database and compares its rows, columns joined by "|".
func wantRows(t *testing.T, path, query string, want ...string) {
	t.Helper()
	if got := queryStrings(t, path, query); !slices.Equal(got, want) {
		t.Errorf("%s\n got %q\nwant %q", query, got, want)
	}
}

func wantUnsafe(t *testing.T, what string, err error, want []unsafeAt) {
	t.Helper()
	var got []unsafeAt
	collectUnsafe(err, &got)
	if len(got) != len(want) {
		t.Fatalf("%s: error %v, want %d *UnsafeError", what, err, len(want))
	}
	var first *UnsafeError
	if !errors.As(err, &first) {
		t.Errorf("%s: errors.As finds no *UnsafeError in %v", what, err)
	}
	for i, w := range want {
		if g := got[i]; g.table != w.table || g.column != w.column || !strings.Contains(g.why, w.why) {
			t.Errorf("%s: refusal %d is %+v, want %+v", what, i, g, w)
		}
	}
}

// collectUnsafe finds every *UnsafeError in err's tree, in order.
func collectUnsafe(err error, out *[]unsafeAt) {
	switch e := err.(type) {
	case nil:
	case *UnsafeError:
		*out = append(*out, unsafeAt{e.Table, e.Column, e.Why})
	case interface{ Unwrap() []error }:
		for _, err := range e.Unwrap() {
			collectUnsafe(err, out)
		}
	default:
		collectUnsafe(errors.Unwrap(err), out)
	}
}

// kept is what a reconciled site must still have: every row of every table by the
// columns it had, its sqlite_sequence entries at least as high, and its indexes,
// triggers and views exactly.
type kept struct {
	rows     snapshot
	sequence map[string]int64
	objects  []string
}

func takeKept(t *testing.T, path string) kept {
	t.Helper()
	k := kept{rows: takeSnapshot(t, path), sequence: map[string]int64{}}
	// A rebuild gives the table's sqlite_sequence entry a new rowid; its value is what counts.
	delete(k.rows, "sqlite_sequence")
	if _, ok := read(t, path).Tables["sqlite_sequence"]; ok {
		for _, r := range queryStrings(t, path, `SELECT name, seq FROM sqlite_sequence`) {
			name, seq, _ := strings.Cut(r, "|")
			n, err := strconv.ParseInt(seq, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			k.sequence[name] = n
		}
	}
	k.objects = queryStrings(t, path, `SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL ORDER BY name`)
	return k
}

func checkKept(t *testing.T, path string, before kept) {
	t.Helper()
	for name, tr := range before.rows {
		got := dumpRows(t, path, name, tr.columns)
		if name == migrationsTable && len(got) >= len(tr.rows) {
			got = got[:len(tr.rows)] // rule 5 adds rows after the site's
		}
		if !slices.Equal(got, tr.rows) {
			t.Errorf("table %q rows changed\n got %q\nwant %q", name, got, tr.rows)
		}
	}
	after := takeKept(t, path)
	for name, seq := range before.sequence {
		if got, ok := after.sequence[name]; !ok || got < seq {
			t.Errorf("sqlite_sequence of %q: %d (present %v), was %d", name, got, ok, seq)
		}
	}
	for _, o := range before.objects {
		if !slices.Contains(after.objects, o) {
			t.Errorf("lost %s", o)
		}
	}
}

// A failure after tables, rows and a rebuild are made must leave the site's file as it
// was: one transaction.
func TestApplyIsAtomic(t *testing.T) {
	site := makeDB(t, "db.omflow", itemTable, itemRows, `INSERT INTO app_item (name) VALUES ('first')`,
		`CREATE INDEX "app_item_name_1234abcd" ON "app_item" ("name")`)
	release := makeDB(t, "db.omflow",
		withColumns(`"language_package" text NOT NULL`, `"api_path" varchar(500) NULL`),
		`CREATE TABLE "app_new" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "v" text NULL)`,
		`INSERT INTO app_new (v) VALUES ('a'), ('b')`,
		`CREATE UNIQUE INDEX "app_item_name_uniq" ON "app_item" ("name")`,
		migrations, `INSERT INTO django_migrations (app, name, applied) VALUES ('app', '0002', '2020-08-14')`)
	values := Values{"app_item.language_package": "{}"}
	before := stateOf(t, site)

	// Plan cannot know the site's names collide.
	if _, err := Plan(read(t, site), read(t, release), values); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(context.Background(), site, release, values)
	if err == nil || !strings.Contains(err.Error(), `"app_item_name_uniq"`) {
		t.Fatalf("error %v, want one naming the index app_item_name_uniq", err)
	}
	var unsafe *UnsafeError
	if errors.As(err, &unsafe) {
		t.Errorf("a failure is not a refusal: %v", unsafe)
	}
	if stateOf(t, site).bytes != before.bytes {
		t.Error("the failed Apply changed the site's file")
	}
	onlyFiles(t, filepath.Dir(site), "db.omflow")
}

// Apply plans again inside its transaction: a site that changed since the caller's Plan
// (an empty table that now holds rows) is refused, not half-updated.
func TestApplyPlansAgain(t *testing.T) {
	site := makeDB(t, "db.omflow", itemTable)
	release := makeDB(t, "db.omflow", withColumns(`"language_package" text NOT NULL`))
	c, err := Plan(read(t, site), read(t, release), nil)
	if err != nil || len(c.Columns) != 1 {
		t.Fatalf("Plan: %+v, %v", c, err)
	}
	execDB(t, site, itemRows)
	before := stateOf(t, site)
	_, err = Apply(context.Background(), site, release, nil)
	wantUnsafe(t, "Apply", err, []unsafeAt{{"app_item", "language_package", "no default"}})
	if stateOf(t, site).bytes != before.bytes {
		t.Error("the refused Apply changed the site's file")
	}
}

func TestApplyRefuses(t *testing.T) {
	release := makeDB(t, "db.omflow", itemTable)
	dir := t.TempDir()
	notDB := filepath.Join(dir, "settings.py")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("DEBUG = False\n", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.omflow")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name          string
		ctx           context.Context
		site, release string
		want          error
	}{
		{"site is not SQLite", context.Background(), notDB, release, ErrNotSQLite},
		{"site is empty", context.Background(), empty, release, ErrNotSQLite},
		{"site is missing", context.Background(), filepath.Join(dir, "missing.omflow"), release, fs.ErrNotExist},
		{"release is not SQLite", context.Background(), makeDB(t, "db.omflow"), notDB, ErrNotSQLite},
		{"cancelled", cancelled, makeDB(t, "db.omflow"), release, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before []byte
			if b, err := os.ReadFile(tt.site); err == nil {
				before = b
			}
			_, err := Apply(tt.ctx, tt.site, tt.release, nil)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.site) {
				t.Errorf("error %v, want %v naming %s", err, tt.want, tt.site)
			}
			after, _ := os.ReadFile(tt.site)
			if string(after) != string(before) {
				t.Error("the site's file changed")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.omflow")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Apply made the missing site: %v", err)
	}
}

// Apply's last step is SQLite's integrity_check: a database it finds damaged is not
// committed. Here the damage is made beforehand (an index whose SQL no longer matches its
// entries), which the same check catches.
func TestApplyChecksIntegrity(t *testing.T) {
	site := makeDB(t, "db.omflow", itemTable, itemRows, `CREATE INDEX "app_item_name" ON "app_item" ("name")`)
	execDB(t, site, `PRAGMA writable_schema = ON`,
		`UPDATE sqlite_master SET sql = 'CREATE INDEX "app_item_name" ON "app_item" ("id")' WHERE name = 'app_item_name'`)
	release := makeDB(t, "db.omflow", withColumns(`"api_path" varchar(500) NULL`))
	before := stateOf(t, site)
	_, err := Apply(context.Background(), site, release, nil)
	if err == nil || !strings.Contains(err.Error(), "integrity_check") {
		t.Fatalf("error %v, want the integrity check's", err)
	}
	if stateOf(t, site).bytes != before.bytes {
		t.Error("the failed Apply changed the site's file")
	}
}
