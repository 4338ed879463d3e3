package pkg

import (
	"strings"
	"testing"
)

// tree is an installation's links: path -> target.
func tree(links map[string]string) LinkTree {
	return func(p string) (string, bool, error) {
		t, ok := links[p]
		return t, ok, nil
	}
}

func link(p, target string) File {
	return File{Path: p, Kind: KindFile, Mode: 0o777, Link: target}
}

func plain(p string) File {
	return File{Path: p, Kind: KindFile, Mode: 0o644, Size: 1, SHA256: strings.Repeat("0", 64)}
}

// Links resolved as the file system resolves them, against the installation's own links
// and those of the earlier packages of a chain.
func TestCheckLinks(t *testing.T) {
	tests := []struct {
		name    string
		install map[string]string
		earlier []Manifest // applied first, in order
		files   []File
		delete  []string
		want    string // part of the refusal, "" when accepted
	}{
		{name: "links inside", files: []File{link("lib", "lib64"), link("bin/py", "../python/bin/python3")}},
		{name: "through the installation's link inside",
			install: map[string]string{"static": "server/static"},
			files:   []File{link("css", "static/css")}},
		{name: "the installation's a/b/l1 -> .. then the package's x/l2 -> ../a/b/l1/../../y",
			install: map[string]string{"a/b/l1": ".."},
			files:   []File{link("x/l2", "../a/b/l1/../../y")},
			want:    "leaves the installation's root"},
		{name: "l2 -> a/b/l1/../.. names the root's parent",
			install: map[string]string{"a/b/l1": ".."},
			files:   []File{link("l2", "a/b/l1/../../etc")},
			want:    "leaves the installation's root"},
		{name: "an earlier package's a/b/l1 -> .., this one's x/l2",
			earlier: []Manifest{{Files: []File{link("a/b/l1", "..")}}},
			files:   []File{link("x/l2", "../a/b/l1/../../y")},
			want:    "leaves the installation's root"},
		{name: "an earlier package's link removed by a later delete",
			earlier: []Manifest{{Files: []File{link("a/b/l1", "..")}}, {Delete: []string{"a/b/l1"}}},
			files:   []File{link("x/l2", "../a/b/l1/../../y")}},
		{name: "through an absolute link of the installation",
			install: map[string]string{"data": "/srv/data"},
			files:   []File{link("d", "data/sub")},
			want:    "absolute"},
		{name: "a file below the installation's link",
			install: map[string]string{"server/uploads": "/srv/uploads"},
			files:   []File{plain("server/uploads/x.py")},
			want:    `below the link "server/uploads"`},
		{name: "a file below a link inside the installation",
			install: map[string]string{"server/alias": "app"},
			files:   []File{plain("server/alias/x.py")},
			want:    "below the link"},
		{name: "a file below an earlier package's link",
			earlier: []Manifest{{Files: []File{link("server/lib", "lib64")}}},
			files:   []File{plain("server/lib/x.py")},
			want:    `below the link "server/lib"`},
		{name: "a delete below the installation's link",
			install: map[string]string{"server/uploads": "/etc"},
			delete:  []string{"server/uploads/passwd"},
			want:    "below the link"},
		{name: "the installation's link replaced by a file",
			install: map[string]string{"server/py": "/usr/bin/python3"},
			files:   []File{plain("server/py")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view := tree(tt.install)
			for i := range tt.earlier {
				if err := tt.earlier[i].CheckLinks(view); err != nil {
					t.Fatalf("earlier package %d refused: %v", i, err)
				}
				view = tt.earlier[i].Over(view)
			}
			m := Manifest{Files: tt.files, Delete: tt.delete}
			err := m.CheckLinks(view)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
