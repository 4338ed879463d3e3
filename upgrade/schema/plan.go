package schema

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Values gives the value for a column the release declares NOT NULL without a DEFAULT,
// keyed "table.column": Django's model default, already in database form (string, int64,
// float64, []byte). Rows the site already has get it when the column is added.
type Values map[string]any

// Changes is what reconciling adds to the site's database. The JSON names are part of
// the CLI's public -json output.
type Changes struct {
	Tables     []TableAdd  `json:"tables,omitempty"`     // created with the release's DDL, its rows copied
	Columns    []ColumnAdd `json:"columns,omitempty"`    // added to tables the site has
	Indexes    []IndexAdd  `json:"indexes,omitempty"`    // created with the release's SQL
	Migrations []string    `json:"migrations,omitempty"` // django_migrations rows "app.name" recorded in the site
}

// TableAdd is a table the release adds, with the number of its rows copied.
type TableAdd struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// ColumnAdd is a column the release adds to a table the site has.
type ColumnAdd struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	// Definition is the column's definition as the release's CREATE TABLE declares it,
	// e.g. `"api_path" varchar(500) NULL`.
	Definition string `json:"definition"`
	// Rebuild says the table is rebuilt because SQLite cannot ADD the column (or another
	// one the release adds to the same table).
	Rebuild bool `json:"rebuild,omitempty"`
	// Value is what the site's existing rows get, when it comes from Values.
	Value any `json:"value,omitempty"`
}

// IndexAdd is an index the release adds.
type IndexAdd struct {
	Name  string `json:"name"`
	Table string `json:"table"`
}

// Empty reports whether there is nothing to change.
func (c *Changes) Empty() bool {
	return len(c.Tables) == 0 && len(c.Columns) == 0 && len(c.Indexes) == 0 && len(c.Migrations) == 0
}

// UnsafeError is a change that cannot be made without dropping or changing site data.
type UnsafeError struct {
	Table, Column, Why string
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("table %q column %q: %s", e.Table, e.Column, e.Why)
}

// skipped: never reconciled, on either side (see the package rules).
func skipped(table string) bool { return internal(table) || IsRuntimeFormTable(table) }

// Plan compares the site's schema with the release's and says what reconciling adds. It
// never touches a runtime form table of either side. A change it cannot make without
// dropping or changing site data is an *UnsafeError (several are joined: errors.As finds
// the first); no Changes are returned then.
func Plan(site, release *Schema, values Values) (*Changes, error) {
	c := &Changes{}
	var unsafe []error
	gets := map[string]bool{} // lower-case names of tables the site has or gets
	for name, t := range site.Tables {
		if !skipped(name) {
			gets[strings.ToLower(t.Name)] = true
		}
	}
	for _, name := range sortedKeys(release.Tables) {
		if skipped(name) {
			continue
		}
		rt := release.Tables[name]
		st := site.table(name)
		if st == nil {
			// Its rows are copied by column: a virtual table has no column list to copy
			// by, and is refused here rather than halfway through Apply.
			if _, err := parseCreateTable(rt.SQL); err != nil {
				return nil, fmt.Errorf("release's CREATE TABLE of %q: %w", rt.Name, err)
			}
			c.Tables = append(c.Tables, TableAdd{Name: rt.Name, Rows: rt.Rows})
			gets[strings.ToLower(rt.Name)] = true
			continue
		}
		adds, errs, err := planColumns(st, rt, values)
		if err != nil {
			return nil, err
		}
		c.Columns = append(c.Columns, adds...)
		unsafe = append(unsafe, errs...)
	}
	for _, name := range sortedKeys(release.Indexes) {
		ix := release.Indexes[name]
		if !skipped(ix.Table) && gets[strings.ToLower(ix.Table)] && !site.hasIndex(name) {
			c.Indexes = append(c.Indexes, IndexAdd{Name: ix.Name, Table: ix.Table})
		}
	}
	for _, m := range missingMigrations(site, release) {
		c.Migrations = append(c.Migrations, m.String())
	}
	switch len(unsafe) {
	case 0:
		return c, nil
	case 1:
		return nil, unsafe[0]
	}
	return nil, errors.Join(unsafe...)
}

// missingMigrations are the release's django_migrations rows the site lacks, in the
// release's order, each once.
func missingMigrations(site, release *Schema) []Migration {
	if site.table(migrationsTable) == nil || release.table(migrationsTable) == nil {
		return nil
	}
	have := map[Migration]bool{}
	for _, m := range site.Migrations {
		have[m] = true
	}
	var out []Migration
	for _, m := range release.Migrations {
		if !have[m] {
			have[m] = true
			out = append(out, m)
		}
	}
	return out
}

// added are the release table's columns the site's table lacks, in the release's order.
func added(st, rt *Table) []Column {
	var cols []Column
	for _, c := range rt.Columns {
		if _, ok := st.column(c.Name); !ok {
			cols = append(cols, c)
		}
	}
	return cols
}

// hasDefault: a DEFAULT NULL is no default for a NOT NULL column.
func (c Column) hasDefault() bool {
	return c.Default != nil && !strings.EqualFold(strings.TrimSpace(*c.Default), "NULL")
}

// needsValue: what existing rows would get is nothing SQLite can supply.
func (c Column) needsValue() bool { return c.NotNull && !c.hasDefault() && c.PK == 0 && c.Hidden == 0 }

// canAdd reports whether SQLite's ALTER TABLE ADD COLUMN can add the column as declared
// (https://www.sqlite.org/lang_altertable.html#altertabaddcol).
func canAdd(c Column, def definition, ct *createTable) bool {
	return c.PK == 0 && !def.has("PRIMARY") && !def.has("UNIQUE") && c.Hidden != 3 &&
		def.constantDefault() && !(c.NotNull && !c.hasDefault()) && !ct.constrained(c.Name)
}

// planColumns plans the columns the release adds to one table the site has: the
// additions, the reasons they are unsafe, or an error reading the release's DDL.
func planColumns(st, rt *Table, values Values) ([]ColumnAdd, []error, error) {
	cols := added(st, rt)
	if len(cols) == 0 {
		return nil, nil, nil
	}
	ct, err := parseCreateTable(rt.SQL)
	if err != nil {
		return nil, nil, fmt.Errorf("release's CREATE TABLE of %q: %w", rt.Name, err)
	}
	adds := make([]ColumnAdd, len(cols))
	rebuild := false
	for i, c := range cols {
		def, ok := ct.column(c.Name)
		if !ok {
			return nil, nil, fmt.Errorf("release's CREATE TABLE of %q: no definition of column %q", rt.Name, c.Name)
		}
		adds[i] = ColumnAdd{Table: st.Name, Column: c.Name, Definition: def.text}
		if v, err := lookupValue(values, rt.Name, c.Name); err != nil {
			return nil, nil, err
		} else if v != nil && c.needsValue() && !def.has("PRIMARY") && !def.has("UNIQUE") && c.Hidden != 3 && !ct.constrained(c.Name) {
			// NOT NULL without a DEFAULT, and Django's model gives the value: added with
			// that value as its DEFAULT, by ALTER. The site's rows get it, and so does a
			// row the previous version's code inserts after a rollback -files-only (it
			// knows nothing of the column).
			adds[i].Definition, adds[i].Value = def.text+" DEFAULT "+sqlLiteral(v), v
			continue
		}
		rebuild = rebuild || !canAdd(c, def, ct)
	}
	if !rebuild {
		return adds, nil, nil
	}

	var unsafe []error
	refuse := func(column, why string) {
		unsafe = append(unsafe, &UnsafeError{Table: st.Name, Column: column, Why: why})
	}
	for _, c := range st.Columns {
		if _, ok := rt.column(c.Name); !ok {
			refuse(c.Name, "the table must be rebuilt to add the release's columns, and the rebuild would lose this column of the site's, which the release's table does not have")
		}
	}
	for i, c := range cols {
		// Rebuilt, the table is the release's CREATE TABLE as written: no DEFAULT added.
		def, _ := ct.column(c.Name)
		adds[i].Definition, adds[i].Value = def.text, nil
		adds[i].Rebuild = true
		if st.Rows == 0 {
			continue
		}
		var value any // what every existing row gets
		switch {
		case c.PK > 0 || def.has("PRIMARY"):
			refuse(c.Name, "a PRIMARY KEY column cannot be added to a table that holds rows")
			continue
		case c.needsValue():
			v, err := lookupValue(values, rt.Name, c.Name)
			if err != nil {
				return nil, nil, err
			}
			if v == nil {
				refuse(c.Name, "the column is NOT NULL without a default, the table holds rows, and Django's model gives no default")
				continue
			}
			adds[i].Value, value = v, v
		case c.hasDefault():
			value = *c.Default
		}
		if value != nil && st.Rows > 1 && (def.has("UNIQUE") || ct.uniqueAlone(c.Name)) {
			refuse(c.Name, fmt.Sprintf("the column is UNIQUE, and the table's %d rows would all get the same value", st.Rows))
		}
	}
	if st.Rows > 0 {
		for _, c := range st.Columns {
			r, ok := rt.column(c.Name)
			if ok && affinity(r.Type) != affinity(c.Type) {
				refuse(c.Name, fmt.Sprintf("the table must be rebuilt, and the release declares this column %q where the site has %q: copying would convert the site's values", r.Type, c.Type))
			}
		}
	}
	return adds, unsafe, nil
}

// lookupValue looks up the caller's value for table.column; nil when there is none. Django's
// None is no value for a NOT NULL column.
func lookupValue(values Values, table, column string) (any, error) {
	v := values[table+"."+column]
	switch v.(type) {
	case nil, string, int64, float64, []byte:
		return v, nil
	}
	return nil, fmt.Errorf("value for %q: type %T is not a database value (string, int64, float64, []byte)", table+"."+column, v)
}

// affinity is SQLite's type affinity of a declared type
// (https://www.sqlite.org/datatype3.html#determination_of_column_affinity): values stored
// in a column of another affinity may be converted.
func affinity(declared string) string {
	t := strings.ToUpper(declared)
	switch {
	case strings.Contains(t, "INT"):
		return "INTEGER"
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return "TEXT"
	case strings.Contains(t, "BLOB"), t == "":
		return "BLOB"
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
		return "REAL"
	}
	return "NUMERIC"
}

// NeedsValue lists, sorted, the "table.column" keys of the columns the release adds to
// site tables that are NOT NULL without a DEFAULT: the caller asks Django for their model
// defaults and passes them to Plan and Apply as Values (an empty table needs none, but
// with one the column is added with it as its DEFAULT).
func NeedsValue(site, release *Schema) []string {
	var keys []string
	for name, rt := range release.Tables {
		st := site.table(name)
		if skipped(name) || st == nil {
			continue
		}
		for _, c := range added(st, rt) {
			if c.needsValue() {
				keys = append(keys, rt.Name+"."+c.Name)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// sqlLiteral writes a database value as an SQL literal for a DEFAULT clause.
func sqlLiteral(v any) string {
	switch x := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'"
	}
	return "NULL"
}
