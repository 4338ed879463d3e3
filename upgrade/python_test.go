package upgrade

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

// TestPythonMoveThatFailsRollsBackTheVenv moves a demo installation whose environment
// runs an older Python to the Python the update requires; the new environment cannot get
// its packages (an empty wheel folder, no index): the update fails, and the old venv,
// the tree and the service are back.
func TestPythonMoveThatFailsRollsBackTheVenv(t *testing.T) {
	if err := exec.Command("/usr/bin/python3.11", "-c", "import venv, ensurepip").Run(); err != nil {
		t.Skip("Debian's python3.11 with venv is needed (apt-get install python3-venv)")
	}
	in := newDemo(t, "", "1.1.6.1")
	venv := in.PythonDir()
	if out, err := exec.Command("/usr/bin/python3.11", "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("make the old venv: %v %s", err, out)
	}
	// The stand-in of OMFLOW's Python 3.8 environment: a venv whose pyvenv.cfg says 3.8.
	cfg := filepath.Join(venv, "pyvenv.cfg")
	b, _ := os.ReadFile(cfg)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "version") {
			lines[i] = "version = 3.8.18"
		}
	}
	os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o644)
	before := snapshot(t, in.Root)

	p := buildPackage(t, release{version: "1.2.0.0", python: "3.11", files: map[string]string{"server/omflow/views.py": "# 1.2.0.0\n"}})
	opt := options(t, in)
	r, err := Check(context.Background(), opt, p, false)
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	for _, c := range r.Checks {
		moved = moved || (c.Name == CheckPython && c.OK && strings.Contains(c.Message, "3.8.18"))
	}
	if !moved {
		t.Fatalf("check does not announce the Python move: %+v", r.Checks)
	}
	opt.Wheels = t.TempDir() // offline, and nothing in it
	var steps stepList
	opt.Progress = &steps
	_, err = Apply(context.Background(), opt, p)
	if outcome.ExitCode(err) != outcome.ExitRolledBack {
		t.Fatalf("exit %d: %v", outcome.ExitCode(err), err)
	}
	if !strings.Contains(steps.String(), StepPython) {
		t.Fatalf("the Python step did not run: %s", steps.String())
	}
	sameTree(t, before, snapshot(t, in.Root))
	answers(t, in, "1.1.6.1")
}

// stepList keeps the steps a run announced.
type stepList struct {
	NoProgress
	steps []string
}

func (s *stepList) Step(name string) { s.steps = append(s.steps, name) }
func (s *stepList) String() string   { return strings.Join(s.steps, " ") }
