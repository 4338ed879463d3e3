//go:build unix

package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

// The service account, which may write in its upload folder, makes it a link to a
// folder of root's; the next release ships a file there. check and apply refuse the
// package (exit 2) before anything changes: nothing is written in the folder the link
// names, the installation is as it was.
func TestApplyRefusesWritingThroughTheInstallationsLink(t *testing.T) {
	in := newDemo(t, "", "1.1.3.2")
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "victim.py"), []byte("root's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(in.Root, "server", "omflow", "media")); err != nil {
		t.Fatal(err)
	}
	p := buildPackage(t, release{version: "1.1.4.0", files: map[string]string{
		"server/omflow/views.py":         "# 1.1.4.0\n",
		"server/omflow/media/planted.py": "print('as root')\n",
		"server/omflow/media/victim.py":  "replaced\n",
	}})
	before, beforeOut := snapshot(t, in.Root), snapshot(t, outside)
	_, cerr := openSession(t, options(t, in)).Check(context.Background(), p, false)
	_, aerr := openSession(t, options(t, in)).Apply(context.Background(), p)
	for name, err := range map[string]error{"check": cerr, "apply": aerr} {
		var unusable *outcome.UnusableError
		if !errors.As(err, &unusable) || !strings.Contains(err.Error(), `below the link "server/omflow/media"`) {
			t.Errorf("%s: got %v, want the package refused as unusable naming the link", name, err)
		}
	}
	if d := diffTrees(beforeOut, snapshot(t, outside)); len(d) > 0 {
		t.Fatalf("root wrote in the folder the link names: %v", d)
	}
	if d := diffTrees(before, snapshot(t, in.Root)); len(d) > 0 {
		t.Fatalf("the installation changed: %v", d)
	}
	answers(t, in, "1.1.3.2")
}

// Two releases of a chain, each with links that stay inside on its own: the first
// makes a/b/l1 -> .., the second x/l2 -> ../a/b/l1/../../y, which the file system
// resolves to the root's parent. The plan is refused before the first hop.
func TestApplyChainRefusesLinksThatLeaveTogether(t *testing.T) {
	in := newDemo(t, "", "1.1.3.2")
	dir := t.TempDir()
	for _, r := range []release{
		{version: "1.1.4.0", files: map[string]string{"server/omflow/views.py": "# 1.1.4.0\n"}, links: map[string]string{"a/b/l1": ".."}},
		{version: "1.2.0.0", files: map[string]string{"server/omflow/views.py": "# 1.2.0.0\n"}, links: map[string]string{"x/l2": "../a/b/l1/../../y"}},
	} {
		b, err := os.ReadFile(buildPackage(t, r))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("omflow_update_%s.tar.gz", r.version)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, in.Root)
	r, err := openSession(t, options(t, in)).ApplyChain(context.Background(), dir, "")
	var unusable *outcome.UnusableError
	if !errors.As(err, &unusable) || !strings.Contains(err.Error(), "leaves the installation's root") || !strings.Contains(err.Error(), "1.2.0.0") {
		t.Fatalf("got %v, want the second package refused: its link leaves the root through the first's", err)
	}
	if r != nil && len(r.Hops) > 0 {
		t.Fatalf("hops ran: %+v", r.Hops)
	}
	if d := diffTrees(before, snapshot(t, in.Root)); len(d) > 0 {
		t.Fatalf("the installation changed: %v", d)
	}
	answers(t, in, "1.1.3.2")
}
