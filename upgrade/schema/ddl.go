package schema

import (
	"errors"
	"fmt"
	"strings"
)

// SQLite keeps a table's CREATE TABLE text as it was written, and that text is the only
// place a column's definition exists as SQL: PRAGMA table_info gives the type and default
// but not UNIQUE, COLLATE, CHECK or REFERENCES. So the release's columns are added with
// their definitions cut from that text, which needs a tokenizer that knows where a
// definition ends.

type tokenKind int

const (
	tokWord   tokenKind = iota // bare identifier, keyword or number
	tokQuoted                  // "identifier", `identifier` or [identifier]
	tokString                  // 'string literal'
	tokPunct                   // one character: ( ) , . ; and operators
)

type token struct {
	kind       tokenKind
	text       string // as written, quotes included
	start, end int    // byte offsets in the SQL
}

// is reports whether t is the bare keyword kw (case-insensitive). A quoted "unique" is a
// name, not the keyword.
func (t token) is(kw string) bool { return t.kind == tokWord && strings.EqualFold(t.text, kw) }

// name is t read as an identifier: quotes removed and doubled quotes undone. SQLite also
// takes a 'string' where a name is expected, so that is unquoted too.
func (t token) name() string {
	switch t.kind {
	case tokQuoted:
		q := t.text[:1]
		inner := t.text[1 : len(t.text)-1]
		if q == "[" {
			return inner
		}
		return strings.ReplaceAll(inner, q+q, q)
	case tokString:
		return strings.ReplaceAll(t.text[1:len(t.text)-1], "''", "'")
	}
	return t.text
}

var errUnterminated = errors.New("unterminated quote or comment")

// tokenize splits SQL into tokens, dropping white space and comments.
func tokenize(sql string) ([]token, error) {
	var toks []token
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			// SQLite lets a block comment run to the end of the text unclosed.
			if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
				i += 2 + j + 2
			} else {
				i = len(sql)
			}
		case c == '"' || c == '`' || c == '\'':
			end, ok := quoteEnd(sql, i, c)
			if !ok {
				return nil, fmt.Errorf("at byte %d: %w", i, errUnterminated)
			}
			kind := tokQuoted
			if c == '\'' {
				kind = tokString
			}
			toks = append(toks, token{kind, sql[i:end], i, end})
			i = end
		case c == '[':
			j := strings.IndexByte(sql[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("at byte %d: %w", i, errUnterminated)
			}
			toks = append(toks, token{tokQuoted, sql[i : i+j+1], i, i + j + 1})
			i += j + 1
		case isWordByte(c):
			j := i + 1
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			toks = append(toks, token{tokWord, sql[i:j], i, j})
			i = j
		default:
			toks = append(toks, token{tokPunct, sql[i : i+1], i, i + 1})
			i++
		}
	}
	return toks, nil
}

// quoteEnd finds the end (one past the closing quote) of the quoted text starting at
// sql[start]; a doubled quote stands for one and does not close.
func quoteEnd(sql string, start int, q byte) (int, bool) {
	for i := start + 1; i < len(sql); i++ {
		if sql[i] != q {
			continue
		}
		if i+1 < len(sql) && sql[i+1] == q {
			i++
			continue
		}
		return i + 1, true
	}
	return 0, false
}

// isWordByte: SQLite's identifier characters; any byte of a UTF-8 sequence counts, as it
// does for SQLite.
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 ||
		'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// definition is one entry of a CREATE TABLE's list: a column definition or a table
// constraint.
type definition struct {
	text   string  // as written, e.g. `"api_path" varchar(500) NULL`
	toks   []token // its tokens
	column string  // the column's name; "" for a table constraint
}

// createTable is a CREATE TABLE statement cut into the parts reconciling needs.
type createTable struct {
	sql              string
	nameStart        int // the table's name (schema-qualified or not) is sql[nameStart:nameEnd]
	nameEnd          int
	defs             []definition
	withoutRowid     bool
	hasAutoincrement bool
}

// parseCreateTable reads an ordinary CREATE TABLE; CREATE TABLE ... AS SELECT and
// CREATE VIRTUAL TABLE have no column list to take definitions from and are refused.
func parseCreateTable(sql string) (*createTable, error) {
	toks, err := tokenize(sql)
	if err != nil {
		return nil, err
	}
	i := 0
	expect := func(kws ...string) bool {
		if i < len(toks) {
			for _, kw := range kws {
				if toks[i].is(kw) {
					i++
					return true
				}
			}
		}
		return false
	}
	if !expect("CREATE") {
		return nil, errors.New("not a CREATE TABLE statement")
	}
	expect("TEMP", "TEMPORARY")
	if !expect("TABLE") {
		return nil, errors.New("not an ordinary CREATE TABLE statement")
	}
	if expect("IF") && !(expect("NOT") && expect("EXISTS")) {
		return nil, errors.New("malformed IF NOT EXISTS")
	}
	open := i
	for open < len(toks) && toks[open].text != "(" {
		open++
	}
	// The name, maybe schema-qualified, then the list: anything else (AS SELECT ...) has
	// no column list.
	if n := open - i; open == len(toks) || n != 1 && !(n == 3 && toks[i+1].text == ".") {
		return nil, errors.New("CREATE TABLE without a column list")
	}
	ct := &createTable{sql: sql, nameStart: toks[i].start, nameEnd: toks[open-1].end}

	depth, first := 0, open+1
	closed := -1
	for j := open; j < len(toks) && closed < 0; j++ {
		t := toks[j]
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				ct.addDefinition(toks[first:j])
				closed = j
			}
		case ",":
			if depth == 1 {
				ct.addDefinition(toks[first:j])
				first = j + 1
			}
		}
	}
	if closed < 0 {
		return nil, errors.New("column list not closed")
	}
	for _, d := range ct.defs {
		if len(d.toks) == 0 {
			return nil, errors.New("empty entry in the column list")
		}
	}
	for j, t := range toks[closed+1:] {
		if t.is("WITHOUT") && closed+2+j < len(toks) && toks[closed+2+j].is("ROWID") {
			ct.withoutRowid = true
		}
	}
	for _, t := range toks {
		if t.is("AUTOINCREMENT") {
			ct.hasAutoincrement = true
		}
	}
	return ct, nil
}

func (ct *createTable) addDefinition(toks []token) {
	d := definition{toks: toks}
	if len(toks) > 0 {
		d.text = ct.sql[toks[0].start:toks[len(toks)-1].end]
		if !isTableConstraint(toks[0]) {
			d.column = toks[0].name()
		}
	}
	ct.defs = append(ct.defs, d)
}

func isTableConstraint(first token) bool {
	for _, kw := range []string{"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"} {
		if first.is(kw) {
			return true
		}
	}
	return false
}

// column finds a column's definition, by SQLite's case-insensitive name rule.
func (ct *createTable) column(name string) (definition, bool) {
	for _, d := range ct.defs {
		if d.column != "" && strings.EqualFold(d.column, name) {
			return d, true
		}
	}
	return definition{}, false
}

// constrained reports whether a table constraint names the column. It may also match a
// parent table's column of the same name in a FOREIGN KEY; that only costs a rebuild
// where an ALTER would have done.
func (ct *createTable) constrained(column string) bool {
	for _, d := range ct.defs {
		if d.column != "" {
			continue
		}
		for _, t := range d.toks[1:] {
			if t.kind != tokPunct && strings.EqualFold(t.name(), column) {
				return true
			}
		}
	}
	return false
}

// renamed is the statement creating the same table under another name.
func (ct *createTable) renamed(name string) string {
	return ct.sql[:ct.nameStart] + quoteIdent(name) + ct.sql[ct.nameEnd:]
}

// atDepth is the definition's tokens at a depth of parentheses, the parentheses left
// out: at 0 a column's own constraints (deeper are CHECK expressions and type sizes), at
// 1 the column list of a table constraint.
func (d definition) atDepth(n int) []token {
	var out []token
	depth := 0
	for _, t := range d.toks {
		switch {
		case t.kind == tokPunct && t.text == "(":
			depth++
		case t.kind == tokPunct && t.text == ")":
			depth--
		case depth == n:
			out = append(out, t)
		}
	}
	return out
}

// has reports whether the definition has the bare keyword among its own constraints.
func (d definition) has(kw string) bool {
	for _, t := range d.atDepth(0) {
		if t.is(kw) {
			return true
		}
	}
	return false
}

// uniqueAlone reports a table constraint UNIQUE (column) or PRIMARY KEY (column) of that
// column alone: a constraint over several columns may still hold when it is added.
func (ct *createTable) uniqueAlone(column string) bool {
	for _, d := range ct.defs {
		if d.column != "" || !(d.has("UNIQUE") || d.has("PRIMARY")) {
			continue
		}
		var names []string
		for _, t := range d.atDepth(1) {
			if t.kind != tokPunct && !t.is("COLLATE") && !t.is("ASC") && !t.is("DESC") {
				names = append(names, t.name())
			}
		}
		if len(names) == 1 && strings.EqualFold(names[0], column) {
			return true
		}
	}
	return false
}

// constantDefault reports whether the column's DEFAULT, if any, is a constant, which
// ALTER TABLE ADD COLUMN needs: not an expression in parentheses and not CURRENT_TIME,
// CURRENT_DATE or CURRENT_TIMESTAMP. PRAGMA table_info gives DEFAULT (1 + 1) without its
// parentheses, so only the DDL tells.
func (d definition) constantDefault() bool {
	for i, t := range d.toks[:len(d.toks)-1] {
		if !t.is("DEFAULT") {
			continue
		}
		next := d.toks[i+1]
		if next.kind == tokPunct && next.text == "(" ||
			next.is("CURRENT_TIME") || next.is("CURRENT_DATE") || next.is("CURRENT_TIMESTAMP") {
			return false
		}
	}
	return true
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
