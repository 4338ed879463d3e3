package schema

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseCreateTable(t *testing.T) {
	tests := []struct {
		name         string
		sql          string
		defs         []string // each definition's text
		columns      []string // each definition's column, "" for a table constraint
		tableName    string   // sql[nameStart:nameEnd]
		withoutRowid bool
		autoinc      bool
	}{
		{
			name:      "django",
			sql:       `CREATE TABLE "omformflow_flowactive" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "api_path" varchar(500) NULL, "flow_app_id" integer NOT NULL REFERENCES "omformflow_activeapplication" ("id") DEFERRABLE INITIALLY DEFERRED)`,
			defs:      []string{`"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT`, `"api_path" varchar(500) NULL`, `"flow_app_id" integer NOT NULL REFERENCES "omformflow_activeapplication" ("id") DEFERRABLE INITIALLY DEFERRED`},
			columns:   []string{"id", "api_path", "flow_app_id"},
			tableName: `"omformflow_flowactive"`,
			autoinc:   true,
		},
		{
			name: "commas and parentheses inside quotes, strings and checks",
			sql: "CREATE TABLE IF NOT EXISTS main.[t,1] (\"a,\"\"b\" text DEFAULT 'x,''y)' CHECK (length(\"a,\"\"b\") > 0), " +
				"`c,d` numeric(10, 2), [e)f] int, 'g' blob, CONSTRAINT u UNIQUE (\"a,\"\"b\", `c,d`))",
			defs: []string{
				"\"a,\"\"b\" text DEFAULT 'x,''y)' CHECK (length(\"a,\"\"b\") > 0)",
				"`c,d` numeric(10, 2)", "[e)f] int", "'g' blob",
				"CONSTRAINT u UNIQUE (\"a,\"\"b\", `c,d`)",
			},
			columns:   []string{`a,"b`, "c,d", "e)f", "g", ""},
			tableName: "main.[t,1]",
		},
		{
			name:         "comments",
			sql:          "CREATE TABLE t ( -- a, b\n a int /* , ) */, b text -- the last\n) WITHOUT ROWID",
			defs:         []string{"a int", "b text"},
			columns:      []string{"a", "b"},
			tableName:    "t",
			withoutRowid: true,
		},
		{
			name:      "table constraints",
			sql:       `CREATE TEMP TABLE t (a, b, PRIMARY KEY (a), FOREIGN KEY (b) REFERENCES p (id), CHECK (a <> b))`,
			defs:      []string{"a", "b", "PRIMARY KEY (a)", "FOREIGN KEY (b) REFERENCES p (id)", "CHECK (a <> b)"},
			columns:   []string{"a", "b", "", "", ""},
			tableName: "t",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := parseCreateTable(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			var defs, cols []string
			for _, d := range ct.defs {
				defs, cols = append(defs, d.text), append(cols, d.column)
			}
			if !reflect.DeepEqual(defs, tt.defs) {
				t.Errorf("definitions\n got %q\nwant %q", defs, tt.defs)
			}
			if !reflect.DeepEqual(cols, tt.columns) {
				t.Errorf("columns %q, want %q", cols, tt.columns)
			}
			if got := tt.sql[ct.nameStart:ct.nameEnd]; got != tt.tableName {
				t.Errorf("name %q, want %q", got, tt.tableName)
			}
			if ct.withoutRowid != tt.withoutRowid || ct.hasAutoincrement != tt.autoinc {
				t.Errorf("without rowid %v, autoincrement %v; want %v, %v", ct.withoutRowid, ct.hasAutoincrement, tt.withoutRowid, tt.autoinc)
			}
			want := tt.sql[:ct.nameStart] + `"new ""x"""` + tt.sql[ct.nameEnd:]
			if got := ct.renamed(`new "x"`); got != want {
				t.Errorf("renamed %q, want %q", got, want)
			}
		})
	}
}

func TestParseCreateTableRefuses(t *testing.T) {
	tests := []struct {
		name, sql string
		want      error // nil: any error
	}{
		{"virtual table", `CREATE VIRTUAL TABLE t USING fts5(a, b)`, nil},
		{"as select", `CREATE TABLE t AS SELECT 1 AS a`, nil},
		{"as select with a call", `CREATE TABLE t AS SELECT count(*) AS n FROM x`, nil},
		{"index", `CREATE INDEX i ON t (a)`, nil},
		{"unterminated identifier", `CREATE TABLE "t (a)`, errUnterminated},
		{"unterminated string", `CREATE TABLE t (a DEFAULT 'x)`, errUnterminated},
		{"unterminated bracket", `CREATE TABLE [t (a)`, errUnterminated},
		{"unclosed list", `CREATE TABLE t (a, b`, nil},
		{"empty entry", `CREATE TABLE t (a,, b)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCreateTable(tt.sql)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDefinitionHas(t *testing.T) {
	tests := []struct {
		def     string
		kw      string
		want    bool
		comment string
	}{
		{`"a" text UNIQUE`, "UNIQUE", true, ""},
		{`"a" text unique`, "UNIQUE", true, "keywords are case-insensitive"},
		{`"unique" text`, "UNIQUE", false, "a quoted name is not the keyword"},
		{`"a" text DEFAULT 'UNIQUE'`, "UNIQUE", false, "nor is a string"},
		{`"a" text CHECK (a NOT IN (SELECT UNIQUE))`, "UNIQUE", false, "nor a word inside parentheses"},
		{`"a" integer NOT NULL PRIMARY KEY`, "PRIMARY", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.def, func(t *testing.T) {
			ct, err := parseCreateTable("CREATE TABLE t (" + tt.def + ")")
			if err != nil {
				t.Fatal(err)
			}
			if got := ct.defs[0].has(tt.kw); got != tt.want {
				t.Errorf("has(%s) = %v, want %v %s", tt.kw, got, tt.want, tt.comment)
			}
		})
	}
}

func TestAffinity(t *testing.T) {
	for typ, want := range map[string]string{
		"integer": "INTEGER", "bigint": "INTEGER", "varchar(500)": "TEXT", "text": "TEXT",
		"char(32)": "TEXT", "blob": "BLOB", "": "BLOB", "real": "REAL", "double precision": "REAL",
		"bool": "NUMERIC", "datetime": "NUMERIC", "decimal(10, 5)": "NUMERIC",
	} {
		if got := affinity(typ); got != want {
			t.Errorf("affinity(%q) = %s, want %s", typ, got, want)
		}
	}
}

func TestTokenizeKeepsOffsets(t *testing.T) {
	sql := "a 'b''c' \"d\" [e] `f` (,)"
	toks, err := tokenize(sql)
	if err != nil {
		t.Fatal(err)
	}
	var texts, names []string
	for _, tok := range toks {
		if sql[tok.start:tok.end] != tok.text {
			t.Errorf("token %q at %d:%d", tok.text, tok.start, tok.end)
		}
		texts, names = append(texts, tok.text), append(names, tok.name())
	}
	if got := strings.Join(texts, " "); got != "a 'b''c' \"d\" [e] `f` ( , )" {
		t.Errorf("tokens %s", got)
	}
	if got := strings.Join(names, " "); got != "a b'c d e f ( , )" {
		t.Errorf("names %s", got)
	}
}
