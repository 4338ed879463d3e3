package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"omflow-upgrade/i18n"
)

// messageID is the shape of a message id: dotted words ("check.name.python").
var messageID = regexp.MustCompile(`^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$`)

// usedMessageIDs reads the wizard's sources (not its tests) and returns every string
// literal shaped like a message id whose first word is a table of the English messages,
// with where it is; and every place that builds an id by joining a literal ending in "."
// to something else, which neither grep nor goi18n extract can follow.
func usedMessageIDs(t *testing.T, tables map[string]bool) (ids map[string]string, joined []string) {
	t.Helper()
	ids = map[string]string{}
	fset := token.NewFileSet()
	for _, f := range parseSources(t, fset, ".") {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if lit, ok := n.X.(*ast.BasicLit); ok && n.Op == token.ADD && lit.Kind == token.STRING {
					if s, _ := strconv.Unquote(lit.Value); strings.HasSuffix(s, ".") && tables[strings.Split(s, ".")[0]] {
						joined = append(joined, fset.Position(n.Pos()).String()+": "+s+"...")
					}
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(n.Value)
				if err == nil && messageID.MatchString(s) && tables[strings.Split(s, ".")[0]] {
					ids[s] = fset.Position(n.Pos()).String()
				}
			}
			return true
		})
	}
	return ids, joined
}

// Every message id the wizard uses is written whole, and exists in all four languages:
// a typo or a message added in English only fails here, not on an administrator's screen.
func TestEveryMessageIDUsedExistsInEveryLanguage(t *testing.T) {
	b, err := fs.ReadFile(i18n.Files(), "locales/en.toml")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]any
	if err := toml.Unmarshal(b, &en); err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	for k := range en {
		tables[k] = true
	}
	ids, joined := usedMessageIDs(t, tables)
	if len(joined) > 0 {
		t.Errorf("message ids built by joining strings (write them whole):\n%s", strings.Join(joined, "\n"))
	}
	if len(ids) < 100 {
		t.Fatalf("found only %d message ids in the wizard's sources: the scan is broken", len(ids))
	}
	bundle := i18n.MustLoad()
	var missing []string
	for _, l := range i18n.Languages() {
		loc := bundle.Localizer(l.Code)
		for id, where := range ids {
			if loc.T(id, nil) == id {
				missing = append(missing, where+": "+id+" ("+l.Code+")")
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("message ids used but missing:\n%s", strings.Join(missing, "\n"))
	}
}

// Every check the core can report has a title in the wizard's words: the core's check
// names are read from its sources (the constants named Check...).
func TestEveryCheckOfTheCoreHasATitle(t *testing.T) {
	found := 0
	for _, f := range parseSources(t, token.NewFileSet(), filepath.Join("..", "upgrade")) {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Check") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					found++
					check, _ := strconv.Unquote(lit.Value)
					if _, ok := checkNames[check]; !ok {
						t.Errorf("upgrade.%s (%q) has no title in checkNames", name.Name, check)
					}
				}
			}
		}
	}
	if found < 10 {
		t.Fatalf("found only %d check names in the core's sources: the scan is broken", found)
	}
}

// parseSources parses the Go files of dir, not its tests.
func parseSources(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*ast.File
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}
