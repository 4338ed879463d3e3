//go:build !windows

package upgrade

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSystemctl puts a systemctl on PATH that keeps the unit's enabled state in a file:
// the stand-in for systemd, which does not run here.
func fakeSystemctl(t *testing.T, enabled bool) (state string) {
	dir := t.TempDir()
	state = filepath.Join(dir, "omflow_server.enabled")
	if enabled {
		os.WriteFile(state, []byte("enabled\n"), 0o644)
	}
	script := `#!/bin/sh
state="` + state + `"
case "$1" in
is-enabled) if [ -f "$state" ]; then echo enabled; exit 0; fi; echo disabled; exit 1 ;;
enable) echo enabled > "$state" ;;
disable) rm -f "$state" ;;
esac
`
	os.WriteFile(filepath.Join(dir, "systemctl"), []byte(script), 0o755)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return state
}

func unitEnabled(state string) bool { _, err := os.Stat(state); return err == nil }

func TestTheBootUnitIsFencedWhileTheTreeIsMixed(t *testing.T) {
	for _, failing := range []bool{false, true} {
		name := "committed"
		if failing {
			name = "rolled back"
		}
		t.Run(name, func(t *testing.T) {
			state := fakeSystemctl(t, true)
			in := newDemo(t, "", "1.1.6.1")
			files := map[string]string{"server/omflow/views.py": "# 1.1.6.3\n"}
			r := release{version: "1.1.6.3", files: files}
			if failing {
				files["server/omflow_server"] = failingControl
				r.modes = map[string]os.FileMode{"server/omflow_server": 0o755}
			}
			p := buildPackage(t, r)
			opt := options(t, in)
			var during []string
			opt.Hook = func(point string, i int) {
				if point == "op" && i == 0 {
					st, err := openSession(t, options(t, in)).Status(context.Background())
					during = append(during, strings.TrimSpace(boolWord(unitEnabled(state), "enabled", "disabled")), boolWord(err == nil && st.Fenced, "fenced", "not fenced"))
				}
			}
			_, err := openSession(t, opt).Apply(context.Background(), p)
			if (err != nil) != failing {
				t.Fatalf("apply: %v", err)
			}
			if strings.Join(during, " ") != "disabled fenced" {
				t.Fatalf("while the files moved: %v, want the unit disabled and status fenced", during)
			}
			if !unitEnabled(state) {
				t.Fatal("the unit was not enabled again")
			}
			if st, _ := openSession(t, options(t, in)).Status(context.Background()); st.Fenced {
				t.Fatal("status still shows the fence")
			}
		})
	}
}

func TestNoUnitNothingToFence(t *testing.T) {
	state := fakeSystemctl(t, false)
	in := newDemo(t, "", "1.1.6.1")
	p := buildPackage(t, release{version: "1.1.6.3", files: map[string]string{"server/omflow/views.py": "# 1.1.6.3\n"}})
	if _, err := openSession(t, options(t, in)).Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if unitEnabled(state) {
		t.Fatal("a unit that did not start at boot was enabled")
	}
	if out, _ := exec.Command("systemctl", "is-enabled", "omflow_server").Output(); strings.TrimSpace(string(out)) != "disabled" {
		t.Fatalf("fake systemctl: %q", out)
	}
}

func boolWord(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
