package pkg

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestParseManifest(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(good)
	if err != nil {
		t.Fatalf("testdata/manifest.json: %v", err)
	}
	if m.Version != "1.2.0.0" || m.From != "1.1.6" || len(m.Files) != 4 || m.Files[1].Base == nil || m.Files[0].Mode != 0o644 {
		t.Errorf("parsed %+v", m)
	}
	// Marshal then parse gives the same manifest
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if m2, err := ParseManifest(b); err != nil || !reflect.DeepEqual(m, m2) {
		t.Errorf("round trip: %v\n%+v\n%+v", err, m, m2)
	}

	file := func(fields string) string {
		return `{"format":1,"product":"OMFLOW","version":"1.2.0.0","requires":{},"files":[` + fields + `]}`
	}
	f := func(extra string) string {
		return file(`{"path":"server/a.py","kind":"file","mode":"0644","size":4,"sha256":"` + sum + `"` + extra + `}`)
	}
	cases := []struct {
		name, json, want string
	}{
		{"minimal", f(""), ""},
		{"delete only", `{"format":1,"product":"OMFLOW","version":"1.2.0.0","requires":{},"files":[],"delete":["server/old.py"]}`, ""},
		{"hotfix label", strings.Replace(f(""), "1.2.0.0", "1.1.6.3fix3", 1), ""},
		{"unknown field", strings.Replace(f(""), `"format":1`, `"format":1,"extra":true`, 1), "unknown field"},
		{"trailing data", f("") + "{}", "trailing data"},
		{"format 2", strings.Replace(f(""), `"format":1`, `"format":2`, 1), "format 2"},
		{"other product", strings.Replace(f(""), `"OMFLOW"`, `"Other"`, 1), "product"},
		{"three-part version", strings.Replace(f(""), "1.2.0.0", "1.2.0", 1), `version "1.2.0"`},
		{"v prefix", strings.Replace(f(""), "1.2.0.0", "v1.2.0.0", 1), `"v1.2.0.0"`},
		{"bad from", strings.Replace(f(""), `"requires"`, `"from":"1.1.6.0","requires"`, 1), "feature version"},
		{"bad python", strings.Replace(f(""), `"requires":{}`, `"requires":{"python":"3.x"}`, 1), "python"},
		{"bad license tag", strings.Replace(f(""), `"requires":{}`, `"requires":{},"licenses":{"english":"x"}`, 1), "BCP 47"},
		{"license tag not canonical", strings.Replace(f(""), `"requires":{}`, `"requires":{},"licenses":{"EN":"x"}`, 1), "BCP 47"},
		{"upper-case sha", strings.Replace(f(""), sum, strings.ToUpper(sum), 1), "sha256"},
		{"short sha", strings.Replace(f(""), sum, sum[:10], 1), "sha256"},
		{"negative size", strings.Replace(f(""), `"size":4`, `"size":-1`, 1), "size -1"},
		{"unknown kind", strings.Replace(f(""), `"kind":"file"`, `"kind":"exe"`, 1), `kind "exe"`},
		{"setuid mode", strings.Replace(f(""), `"0644"`, `"4755"`, 1), "permission bits"},
		{"decimal mode", strings.Replace(f(""), `"0644"`, `644`, 1), "mode"},
		{"base on a plain file", f(`,"base":{"size":1,"sha256":"` + sum + `"}`), "only config files"},
		{"absolute path", strings.Replace(f(""), "server/a.py", "/etc/passwd", 1), "absolute"},
		{"dot-dot path", strings.Replace(f(""), "server/a.py", "../a.py", 1), "leaves the root"},
		{"unclean path", strings.Replace(f(""), "server/a.py", "server//a.py", 1), "not clean"},
		{"backslash path", strings.Replace(f(""), "server/a.py", `server\\a.py`, 1), "backslash"},
		{"drive letter", strings.Replace(f(""), "server/a.py", `C:/a.py`, 1), "colon"},
		{"trailing dot", strings.Replace(f(""), "server/a.py", `server./a.py`, 1), "ends with a dot"},
		{"case duplicate", file(`{"path":"a","kind":"file","mode":"0644","size":4,"sha256":"` + sum + `"},{"path":"A","kind":"file","mode":"0644","size":4,"sha256":"` + sum + `"}`), "listed twice"},
		{"deleted and shipped", strings.Replace(f(""), `]}`, `],"delete":["server/a.py"]}`, 1), "listed twice"},
		{"link", file(`{"path":"bin/py","kind":"file","mode":"0777","size":0,"link":"../python/py"}`), ""},
		{"link out", file(`{"path":"bin/py","kind":"file","mode":"0777","size":0,"link":"../../usr/bin/py"}`), "points outside"},
		{"link to the parent of the root", file(`{"path":"py","kind":"file","mode":"0777","size":0,"link":".."}`), "points outside"},
		{"link with content", file(`{"path":"bin/py","kind":"file","mode":"0777","size":3,"link":"py3"}`), "a link has no size"},
		{"the database deleted", strings.Replace(f(""), `]}`, `],"delete":["server/db.omflow"]}`, 1), "never deleted"},
		{"the database as a plain file", strings.Replace(f(""), "server/a.py", "server/db.omflow", 1), "must be of kind data"},
		{"the Windows database as a plain file", strings.Replace(f(""), "server/a.py", "omflow/db.omflow", 1), "must be of kind data"},
		{"device name", strings.Replace(f(""), "server/a.py", "server/CON", 1), "device name"},
		{"device name with an extension", strings.Replace(f(""), "server/a.py", "server/aux.py", 1), "device name"},
		{"device name in a folder's name", strings.Replace(f(""), "server/a.py", "com1/a.py", 1), "device name"},
		{"lower-case lpt9", strings.Replace(f(""), "server/a.py", "server/lpt9.txt", 1), "device name"},
		{"a name like a device is fine", strings.Replace(f(""), "server/a.py", "server/console.py", 1), ""},
		{"forbidden character", strings.Replace(f(""), "server/a.py", "server/a?.py", 1), "forbids"},
		{"pipe", strings.Replace(f(""), "server/a.py", "server/a|b.py", 1), "forbids"},
		{"control character", strings.Replace(f(""), "server/a.py", `server/a\u0007.py`, 1), "forbids"},
		{"8.3 short name", strings.Replace(f(""), "server/a.py", "PROGRA~1/a.py", 1), "short name"},
		// Lexically inside (x/../a/b/l1/../../y is a/y), but a/b/l1 -> .. is followed first:
		// a, then the root, then its parent.
		{"links through each other out of the root", file(`{"path":"a/b/l1","kind":"file","mode":"0777","size":0,"link":".."},{"path":"x/l2","kind":"file","mode":"0777","size":0,"link":"../a/b/l1/../../y"}`), "leaves the installation's root"},
		{"link loop", file(`{"path":"l1","kind":"file","mode":"0777","size":0,"link":"l2/x"},{"path":"l2","kind":"file","mode":"0777","size":0,"link":"l1/x"}`), "a loop"},
		{"file below a link", file(`{"path":"lib","kind":"file","mode":"0777","size":0,"link":"lib64"},{"path":"lib/x","kind":"file","mode":"0644","size":4,"sha256":"` + sum + `"}`), "below the link"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(c.json))
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

func TestDefaultKind(t *testing.T) {
	cases := map[string]Kind{
		"server/omflow/settings.py":  KindConfig,
		"omflow/omflow/settings.py":  KindConfig,
		"Apache24/conf/httpd.conf":   KindConfig,
		"apache2/sites/django.conf":  KindConfig,
		"server/db.omflow":           KindData,
		"omflow/db.omflow":           KindData,
		"server/omflow/views.py":     KindFile,
		"server/other/settings.py":   KindFile,
		"server/omflow/db.omflow.gz": KindFile,
	}
	for p, want := range cases {
		if got := DefaultKind(p); got != want {
			t.Errorf("DefaultKind(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestLicense(t *testing.T) {
	m := &Manifest{Licenses: map[string]string{"en": "E", "zh-Hant": "T", "zh-Hans": "S", "ja": "J"}}
	cases := []struct{ lang, tag string }{
		{"en", "en"}, {"en-US", "en"}, {"zh-Hant", "zh-Hant"}, {"zh-TW", "zh-Hant"}, {"zh-HK", "zh-Hant"},
		{"zh-Hans", "zh-Hans"}, {"zh-CN", "zh-Hans"}, {"ja", "ja"}, {"ja-JP", "ja"},
		{"fr", "en"}, {"", "en"}, {"not a tag!", "en"},
	}
	for _, c := range cases {
		text, tag, ok := m.License(c.lang)
		if !ok || tag != c.tag || text != m.Licenses[c.tag] {
			t.Errorf("License(%q) = %q, %q, %v; want %s", c.lang, text, tag, ok, c.tag)
		}
	}
	// a package without English falls back to what it has
	if _, tag, _ := (&Manifest{Licenses: map[string]string{"ja": "J"}}).License("fr"); tag != "ja" {
		t.Errorf("only ja: got %q", tag)
	}
	if _, _, ok := (&Manifest{}).License("en"); ok {
		t.Error("a package without license texts has one")
	}
}

func TestTouchesMigrations(t *testing.T) {
	cases := []struct {
		files, del []string
		want       bool
	}{
		{[]string{"server/omflow/views.py"}, nil, false},
		{[]string{"server/ticket/migrations/0002_add.py"}, nil, true},
		{nil, []string{"server/ticket/migrations/0003_old.py"}, true},
		{[]string{"server/docs/migrations.txt"}, nil, false},
		{[]string{"migrations/0001.py"}, nil, true},
	}
	for _, c := range cases {
		m := &Manifest{Delete: c.del}
		for _, p := range c.files {
			m.Files = append(m.Files, File{Path: p})
		}
		if got := m.TouchesMigrations(); got != c.want {
			t.Errorf("files %v delete %v: %v, want %v", c.files, c.del, got, c.want)
		}
	}
}

// FuzzParseManifest: any input is refused or parsed, never a panic, and what parses
// survives Marshal and a second parse unchanged.
func FuzzParseManifest(f *testing.F) {
	good, err := os.ReadFile(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":1,"product":"OMFLOW","version":"1.2.0.0fix1","requires":{},"files":[{"path":"a","kind":"file","mode":"0777","size":0,"link":"b"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("parsed but does not marshal: %v", err)
		}
		m2, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("marshalled manifest does not parse: %v\n%s", err, out)
		}
		out2, _ := m2.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}
