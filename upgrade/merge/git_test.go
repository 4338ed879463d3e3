package merge

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// gitMerger runs the real `git merge-file -p` in a private folder, with no user or
// system configuration (merge.conflictStyle would change the output).
type gitMerger struct {
	dir string
	env []string
}

func newGitMerger(t *testing.T) *gitMerger {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("these tests compare with git merge-file; install git: %v", err)
	}
	dir := t.TempDir()
	env := append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"HOME="+dir,
		"LC_ALL=C",
	)
	return &gitMerger{dir: dir, env: env}
}

// merge returns git's output and its conflict count (the exit status).
func (g *gitMerger) merge(t *testing.T, base, ours, theirs []byte, opt Options) ([]byte, int) {
	t.Helper()
	files := map[string][]byte{"base": base, "ours": ours, "theirs": theirs}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(g.dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("git", "merge-file", "-p",
		"-L", opt.OursLabel, "-L", "base", "-L", opt.TheirsLabel,
		"ours", "base", "theirs")
	cmd.Dir = g.dir
	cmd.Env = g.env
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &exit) && exit.ExitCode() > 0 && exit.ExitCode() < 128:
		return out, exit.ExitCode()
	default:
		t.Fatalf("git merge-file: %v: %s", err, exit.Stderr)
		return nil, 0
	}
}
