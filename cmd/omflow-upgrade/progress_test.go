package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"omflow-upgrade/internal/testneed"
	"omflow-upgrade/upgrade"
)

// bigPackage packs nfiles new files as update 1.1.6.3 with the fixture's key.
func bigPackage(t *testing.T, f *fixture, nfiles int) string {
	t.Helper()
	src := filepath.Join(f.dir, "big")
	dir := filepath.Join(src, "server", "omflow", "static", "bulk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range nfiles {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.txt", i)), []byte(fmt.Sprintf("file %d of 1.1.6.3\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(f.dir, "omflow_update_big_1_1_6_3.tar.gz")
	if r := cmd(t, "pack", "-key", f.key, "-version", "1.1.6.3", "-out", out, src); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	return out
}

// inTmux runs this program's command line (the test binary as a child) in a new tmux
// server of its own, on a 160x60 terminal, waits until it ends and returns what the
// terminal shows, scrollback included, ending with the line "exit=N".
func inTmux(t *testing.T, args ...string) (screen string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(a ...string) *exec.Cmd {
		return exec.Command("tmux", append([]string{"-S", sock, "-f", "/dev/null"}, a...)...)
	}
	var sh strings.Builder
	fmt.Fprintf(&sh, "%s=1 %s", childEnv, shellQuote(exe))
	for _, a := range args {
		sh.WriteString(" " + shellQuote(a))
	}
	// The pane stays open on the "hold" channel until the server is killed, so that
	// nothing races the capture.
	fmt.Fprintf(&sh, "\necho \"exit=$?\"\ntmux -S %s wait-for -S done\ntmux -S %s wait-for hold\n", shellQuote(sock), shellQuote(sock))
	script := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(script, []byte(sh.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "60", "sh "+shellQuote(script)).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { tmux("kill-server").Run() })
	if out, err := tmux("set-option", "-t", "t", "history-limit", "10000").CombinedOutput(); err != nil {
		t.Fatalf("tmux set-option: %v\n%s", err, out)
	}
	if out, err := tmux("wait-for", "done").CombinedOutput(); err != nil {
		t.Fatalf("tmux wait-for: %v\n%s", err, out)
	}
	out, err := tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t").CombinedOutput()
	if err != nil {
		t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// finishedBar says whether screen shows a finished bar of files, "100% [====] (N/N,
// ... files/s)", with N at least n (the update may move a file or two of its own).
func finishedBar(screen string, n int) bool {
	re := regexp.MustCompile(`(?m)^ +100% \[=+\] \(([0-9]+)/([0-9]+), [0-9]+ files/`)
	for _, m := range re.FindAllStringSubmatch(screen, -1) {
		if done, _ := strconv.Atoi(m[1]); m[1] == m[2] && done >= n {
			return true
		}
	}
	return false
}

func TestProgressBarOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		testneed.Missing(t, "tmux (apt-get install tmux)")
	}
	const n = 3000
	f := newFixture(t, "1.1.6.1")
	big := bigPackage(t, f, n)

	screen := inTmux(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", big)
	t.Logf("apply on a terminal:\n%s", screen)
	if !strings.Contains(screen, "exit=0") {
		t.Fatalf("apply failed on the terminal:\n%s", screen)
	}
	var want []string
	for _, s := range []string{upgrade.StepPreflight, upgrade.StepStage, upgrade.StepBackup, upgrade.StepStop,
		upgrade.StepApply, upgrade.StepStart, upgrade.StepHealth, upgrade.StepVersion, upgrade.StepCommit} {
		want = append(want, stepNames[s])
	}
	assertLinesInOrder(t, screen, want)
	if !finishedBar(screen, n) {
		t.Errorf("no finished bar of %d files on the terminal:\n%s", n, screen)
	}
	// The bar's line is ended: the result starts a line of its own.
	if !regexp.MustCompile(`(?m)^OMFLOW 1\.1\.6\.1 -> 1\.1\.6\.3: done$`).MatchString(screen) {
		t.Errorf("the result does not start a line of its own:\n%s", screen)
	}

	screen = inTmux(t, "rollback", "-root", f.root)
	t.Logf("rollback on a terminal:\n%s", screen)
	if !strings.Contains(screen, "exit=0") {
		t.Fatalf("rollback failed on the terminal:\n%s", screen)
	}
	assertLinesInOrder(t, screen, []string{commandTitles["rollback"]})
	if !finishedBar(screen, n) {
		t.Errorf("no finished bar of %d files for the rollback:\n%s", n, screen)
	}

	// -json on a terminal: the JSON and nothing else.
	screen = inTmux(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", "-json", big)
	t.Logf("apply -json on a terminal:\n%s", screen)
	if !strings.Contains(screen, "exit=0") || !strings.Contains(screen, `"version": "1.1.6.3"`) {
		t.Fatalf("apply -json failed on the terminal:\n%s", screen)
	}
	for _, s := range append(want, "100%", "files/") {
		if strings.Contains(screen, s) {
			t.Errorf("apply -json shows %q on the terminal:\n%s", s, screen)
		}
	}
}

// A failed apply on a terminal: the rollback has its step and bar, and the error starts
// a line of its own.
func TestProgressBarOnATerminalWhenApplyFails(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		testneed.Missing(t, "tmux (apt-get install tmux)")
	}
	f := newFixture(t, "1.1.6.1")
	src := filepath.Join(f.dir, "broken", "server")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "omflow_server"), []byte("#!/bin/sh\necho 'this build cannot start' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(f.dir, "broken.tar.gz")
	if r := cmd(t, "pack", "-key", f.key, "-version", "1.1.6.3", "-out", broken, filepath.Dir(src)); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	screen := inTmux(t, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", broken)
	t.Logf("failed apply on a terminal:\n%s", screen)
	if !strings.HasSuffix(screen, "exit=4") {
		t.Fatalf("apply did not fail with exit 4:\n%s", screen)
	}
	assertLinesInOrder(t, screen, []string{stepNames[upgrade.StepApply], stepNames[upgrade.StepStart], stepNames[upgrade.StepRollback]})
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(stepNames[upgrade.StepRollback]) + "\n +100% \\[=+\\] \\(").MatchString(screen) {
		t.Errorf("no finished bar under the rollback:\n%s", screen)
	}
	if !regexp.MustCompile(`(?m)^omflow-upgrade apply: start the new OMFLOW service: .*this build cannot start`).MatchString(screen) {
		t.Errorf("the error does not start a line of its own:\n%s", screen)
	}
}

// assertLinesInOrder checks that each of want begins a line of screen, in this order.
func assertLinesInOrder(t *testing.T, screen string, want []string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	i := 0
	for _, l := range lines {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("line %q missing (or out of order) on the terminal:\n%s", want[i], screen)
	}
}

func TestNoProgressWhenPiped(t *testing.T) {
	f := newFixture(t, "1.1.6.1")
	big := bigPackage(t, f, 300)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(exe, "apply", "-root", f.root, "-pubkey", f.pub, "-accept-license", big)
	c.Env = append(os.Environ(), childEnv+"=1")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr // pipes, not terminals
	if err := c.Run(); err != nil {
		t.Fatalf("apply: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String() + stderr.String()
	if !strings.Contains(stdout.String(), "1.1.6.1 -> 1.1.6.3: done") {
		t.Fatalf("apply printed no result:\n%s", out)
	}
	for _, bad := range []string{"\x1b", "\r", "100%", "files/", stepNames[upgrade.StepApply]} {
		if strings.Contains(out, bad) {
			t.Errorf("piped output holds %q:\n%q", bad, out)
		}
	}
}

func TestProgressOffWithoutATerminalOrWithJSON(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, stderr := range map[string]io.Writer{"buffer": &bytes.Buffer{}, "pipe": w} {
		for _, json := range []bool{false, true} {
			c := &cli{name: "apply", json: json, stderr: stderr}
			if _, ok := c.progress().(upgrade.NoProgress); !ok {
				t.Errorf("%s, json %v: progress %T, want NoProgress", name, json, c.progress())
			}
		}
	}
	// A terminal, when the test has one (the tmux test covers it everywhere).
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if _, ok := (&cli{name: "apply", stderr: tty}).progress().(*termProgress); !ok {
			t.Errorf("no progress bar on %s", tty.Name())
		}
		if _, ok := (&cli{name: "apply", json: true, stderr: tty}).progress().(upgrade.NoProgress); !ok {
			t.Errorf("a progress bar with -json on %s", tty.Name())
		}
	}
}

// The display itself, on a buffer: steps, a bar, a step that counts nothing, a log line
// under a bar, a second pass, a bar cut short.
func TestTermProgressOutput(t *testing.T) {
	var buf syncBuffer
	p := newTermProgress(&buf, "Rolling back the last update")
	p.Step(upgrade.StepStage)
	p.Bytes(0, 0) // nothing to count: no bar
	p.Step(upgrade.StepApply)
	for i := range int64(401) {
		p.Bytes(i, 400)
	}
	p.Bytes(400, 400) // again: nothing more
	p.Step(upgrade.StepRollback)
	p.Bytes(10, 100)
	p.Logf("kept %s\n", "settings.py")
	p.Bytes(5, 100) // back: a second pass
	p.Bytes(6, 100)
	closeProgress(p)
	closeProgress(p)

	out := buf.String()
	lines := finalLines(out)
	want := []*regexp.Regexp{
		regexp.MustCompile(`^` + regexp.QuoteMeta(stepNames[upgrade.StepStage]) + `$`),
		regexp.MustCompile(`^` + regexp.QuoteMeta(stepNames[upgrade.StepApply]) + `$`),
		regexp.MustCompile(`^ +100% \[=+\] \(400/400, [0-9]+ files/[a-z]+\) \[[0-9]+s\]$`),
		regexp.MustCompile(`^` + regexp.QuoteMeta(stepNames[upgrade.StepRollback]) + `$`),
		regexp.MustCompile(`^kept settings.py$`),
		regexp.MustCompile(`^ +10% \[[=>]+\.+\] \(10/100, `),
		regexp.MustCompile(`^ +6% \[[=>]+\.+\] \(6/100, .*\[[0-9]+s:[0-9]+s\]$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %q", len(lines), len(want), lines)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d is %q, want %s", i, lines[i], re)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("Close left the last line open: %q", out)
	}

	// rollback and recover report no steps: the command's title comes first.
	buf = syncBuffer{}
	p = newTermProgress(&buf, "Rolling back the last update")
	p.Bytes(3, 3)
	if lines := finalLines(buf.String()); len(lines) != 2 || lines[0] != "Rolling back the last update" || !strings.Contains(lines[1], "(3/3, ") {
		t.Errorf("untitled bar: %q", lines)
	}
	// Bytes steps count bytes.
	buf = syncBuffer{}
	p = newTermProgress(&buf, "")
	p.Step(upgrade.StepBackup)
	p.Bytes(3<<20, 3<<20)
	if lines := finalLines(buf.String()); len(lines) != 2 || !strings.Contains(lines[1], "(3.0/3.0 MiB, ") {
		t.Errorf("bytes bar: %q", lines)
	}
}

// Reports from several goroutines at once: every log line comes out whole, on a line of
// its own, between the bar's draws (and -race finds no race).
func TestTermProgressFromGoroutines(t *testing.T) {
	var buf syncBuffer
	p := newTermProgress(&buf, "")
	p.Step(upgrade.StepApply)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range int64(2001) {
			p.Bytes(i, 2000)
		}
	}()
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				p.Logf("goroutine %d line %d", g, i)
			}
		}()
	}
	wg.Wait()
	p.Close()
	got := map[string]bool{}
	for _, l := range finalLines(buf.String()) {
		got[l] = true
	}
	for g := range 4 {
		for i := range 50 {
			if l := fmt.Sprintf("goroutine %d line %d", g, i); !got[l] {
				t.Fatalf("line %q not whole on a line of its own:\n%s", l, buf.String())
			}
		}
	}
}

// finalLines is what a terminal shows for out: each line as its last carriage return
// left it, trailing blanks removed.
func finalLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var cur []rune
		col := 0
		for _, r := range l {
			if r == '\r' {
				col = 0
				continue
			}
			if col < len(cur) {
				cur[col] = r
			} else {
				cur = append(cur, r)
			}
			col++
		}
		lines = append(lines, strings.TrimRight(string(cur), " "))
	}
	return lines
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
