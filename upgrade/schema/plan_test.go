package schema

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNeedsValue(t *testing.T) {
	tests := []struct {
		name          string
		site, release []string
		want          []string
	}{
		{
			name:    "NOT NULL without default, on a table with rows",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"language_package" text NOT NULL`)},
			want:    []string{"app_item.language_package"},
		},
		{
			name:    "an empty table is asked too (the value becomes the column's DEFAULT)",
			site:    []string{itemTable},
			release: []string{withColumns(`"language_package" text NOT NULL`)},
			want:    []string{"app_item.language_package"},
		},
		{
			name:    "a default, NULL allowed, or a primary key (refused anyway): no value",
			site:    []string{itemTable, itemRows, `CREATE TABLE "app_log" ("msg" text)`, `INSERT INTO app_log VALUES ('a')`},
			release: []string{withColumns(`"a" text NOT NULL DEFAULT '{}'`, `"b" text NULL`, `"c" text`), `CREATE TABLE "app_log" ("id" integer NOT NULL PRIMARY KEY, "msg" text)`},
		},
		{
			name:    "DEFAULT NULL is no default",
			site:    []string{itemTable, itemRows},
			release: []string{withColumns(`"a" text NOT NULL DEFAULT NULL`)},
			want:    []string{"app_item.a"},
		},
		{
			name:    "sorted, over several tables; runtime form tables never",
			site:    []string{itemTable, itemRows, `CREATE TABLE "app_a" ("x" text)`, `INSERT INTO app_a VALUES ('x')`, formTable, formRows},
			release: []string{withColumns(`"z" text NOT NULL`, `"b" text NOT NULL`), `CREATE TABLE "app_a" ("x" text, "y" integer NOT NULL)`, `CREATE TABLE "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NULL, "more" text NOT NULL)`},
			want:    []string{"app_a.y", "app_item.b", "app_item.z"},
		},
		{
			name:    "a table the site lacks needs nothing",
			site:    []string{`CREATE TABLE "plain" ("x" text)`},
			release: []string{withColumns(`"language_package" text NOT NULL`), `INSERT INTO app_item (name, language_package) VALUES ('x', '{}')`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := read(t, makeDB(t, "db.omflow", tt.site...))
			release := read(t, makeDB(t, "db.omflow", tt.release...))
			if got := NeedsValue(site, release); !slices.Equal(got, tt.want) {
				t.Errorf("NeedsValue = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlanValueTypes(t *testing.T) {
	site := read(t, makeDB(t, "db.omflow", itemTable, itemRows))
	release := read(t, makeDB(t, "db.omflow", withColumns(`"language_package" text NOT NULL`)))
	for _, v := range []any{"{}", int64(0), 0.0, []byte("{}")} {
		if _, err := Plan(site, release, Values{"app_item.language_package": v}); err != nil {
			t.Errorf("%T: %v", v, err)
		}
	}
	// Django's value must already be in database form: a Go int or bool is the caller's bug.
	for _, v := range []any{0, true, map[string]any{}} {
		_, err := Plan(site, release, Values{"app_item.language_package": v})
		var unsafe *UnsafeError
		if err == nil || errors.As(err, &unsafe) || !strings.Contains(err.Error(), "app_item.language_package") {
			t.Errorf("%T: error %v, want one naming the key", v, err)
		}
	}
}

// A virtual table has no column list to copy its rows by, and creating it would also
// create its shadow tables, which the release lists as tables of their own.
func TestPlanRefusesVirtualTables(t *testing.T) {
	site := read(t, makeDB(t, "db.omflow", itemTable))
	release := read(t, makeDB(t, "db.omflow", itemTable, `CREATE VIRTUAL TABLE "app_search" USING fts5(body)`))
	if _, err := Plan(site, release, nil); err == nil || !strings.Contains(err.Error(), `"app_search"`) {
		t.Errorf("error %v, want one naming app_search", err)
	}
}

func TestUnsafeError(t *testing.T) {
	err := error(&UnsafeError{Table: "t", Column: "c", Why: "why"})
	if got, want := err.Error(), `table "t" column "c": why`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestChangesJSON(t *testing.T) {
	tests := []struct {
		name  string
		c     Changes
		want  string
		empty bool
	}{
		{"empty", Changes{}, `{}`, true},
		{
			name: "all",
			c: Changes{
				Tables:     []TableAdd{{Name: "a", Rows: 2}},
				Columns:    []ColumnAdd{{Table: "t", Column: "c", Definition: `"c" text NOT NULL`, Rebuild: true, Value: "{}"}, {Table: "t", Column: "d", Definition: `"d" text NULL`}},
				Indexes:    []IndexAdd{{Name: "i", Table: "t"}},
				Migrations: []string{"app.0002_x"},
			},
			want: `{"tables":[{"name":"a","rows":2}],` +
				`"columns":[{"table":"t","column":"c","definition":"\"c\" text NOT NULL","rebuild":true,"value":"{}"},{"table":"t","column":"d","definition":"\"d\" text NULL"}],` +
				`"indexes":[{"name":"i","table":"t"}],"migrations":["app.0002_x"]}`,
		},
		{"one migration", Changes{Migrations: []string{"app.0002_x"}}, `{"migrations":["app.0002_x"]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(&tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("JSON\n got %s\nwant %s", b, tt.want)
			}
			if tt.c.Empty() != tt.empty {
				t.Errorf("Empty() = %v", !tt.empty)
			}
		})
	}
}
