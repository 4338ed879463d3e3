package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"omflow-upgrade/upgrade"
)

// stepNames are what an administrator reads for the core's step names.
var stepNames = map[string]string{
	upgrade.StepPreflight:     "Checking the installation and the package",
	upgrade.StepStage:         "Unpacking the update next to the installation",
	upgrade.StepBackup:        "Saving what the update replaces",
	upgrade.StepStop:          "Stopping the OMFLOW service",
	upgrade.StepApply:         "Putting the new files in place",
	upgrade.StepPythonPrepare: "Preparing the new Python environment while OMFLOW runs",
	upgrade.StepPython:        "Moving OMFLOW to the new Python",
	upgrade.StepMigrate:       "Running the Django migrations",
	upgrade.StepStart:         "Starting the OMFLOW service",
	upgrade.StepHealth:        "Checking that OMFLOW answers",
	upgrade.StepVersion:       "Writing the version file",
	upgrade.StepCommit:        "Committing the update",
	upgrade.StepRollback:      "Rolling back",
}

// commandTitles name the work of the commands whose core reports no steps.
var commandTitles = map[string]string{
	"rollback": "Rolling back the last update",
	"recover":  "Recovering the interrupted run",
}

// fileSteps are the steps whose counts are files (the transaction's renames); every
// other step counts bytes.
var fileSteps = map[string]bool{
	"":                   true, // rollback and recover: the transaction's undo
	upgrade.StepApply:    true,
	upgrade.StepRollback: true,
}

func stepName(step string) string {
	if n, ok := stepNames[step]; ok {
		return n
	}
	return step
}

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// redraw is how often a bar is redrawn at most while it counts: one draw per file would
// slow the renames that happen while OMFLOW is down.
const redraw = 100 * time.Millisecond

// termProgress shows a run on a terminal: one line per step as it begins and, under a
// step that counts its work, a bar with done, total, rate and time left. Every write
// happens under mu, so the core may report from any goroutine; the library draws only
// from these calls (it runs no timer of its own for bars of known length).
type termProgress struct {
	mu    sync.Mutex
	w     io.Writer
	title string // shown before the first count when no step has begun
	step  string
	begun bool                     // a step line (or the title) has been written
	bar   *progressbar.ProgressBar // the current step's bar, nil until it counts
	done  int64                    // the last count reported
	drawn time.Time                // when the bar was last given a count
	open  bool                     // the bar's line is not yet ended
}

var _ upgrade.Progress = (*termProgress)(nil)

// newTermProgress writes to w, a terminal; title names the work until a step begins.
func newTermProgress(w io.Writer, title string) *termProgress {
	return &termProgress{w: w, title: title}
}

func (p *termProgress) Step(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endBar()
	p.step, p.begun = name, true
	fmt.Fprintln(p.w, stepName(name))
}

func (p *termProgress) Bytes(done, total int64) {
	if total <= 0 {
		return
	}
	done = max(0, min(done, total))
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.begun {
		p.begun = true
		fmt.Fprintln(p.w, p.title)
	}
	// A count that goes back is another pass over the files (a rollback inside the
	// step): it gets a bar of its own, and the first one stays as far as it got.
	if p.bar != nil && (done < p.done || total != p.bar.GetMax64()) {
		p.endBar()
	}
	if p.bar == nil {
		p.bar = p.newBar(total)
		p.open = true
		p.bar.RenderBlank()
	}
	if !p.open {
		return // finished already: later reports of the same total change nothing
	}
	p.done = done
	if done < total && time.Since(p.drawn) < redraw {
		return
	}
	p.bar.Set64(done)
	p.drawn = time.Now()
	if done == total {
		// The library drew the full bar and left the cursor on its line.
		fmt.Fprintln(p.w)
		p.open = false
	}
}

func (p *termProgress) Logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	if p.open {
		p.bar.Clear()
	}
	fmt.Fprintln(p.w, line)
	if p.open {
		p.bar.RenderBlank()
	}
}

// Hop is already said by the core's Logf line.
func (p *termProgress) Hop(int, int, string, string) {}

// Line: the terminal shows the steps, not the log (its path is printed at the end).
func (p *termProgress) Line(string) {}

// Close ends the line of a bar that never reached its total (a run that failed in the
// middle of a step), so that what the command prints next starts on a line of its own.
func (p *termProgress) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endBar()
	return nil
}

// endBar leaves the current bar on screen with its last count. Called with mu held.
func (p *termProgress) endBar() {
	if p.bar == nil {
		return
	}
	if p.open {
		p.bar.Set64(p.done)
		p.bar.RenderBlank()
		p.bar.Exit()
		fmt.Fprintln(p.w)
	}
	p.bar, p.open, p.done, p.drawn = nil, false, 0, time.Time{}
}

// newBar makes the bar of the current step: files or bytes, with the time left.
func (p *termProgress) newBar(total int64) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("  "),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
		progressbar.OptionSetSpinnerChangeInterval(0),
	}
	if fileSteps[p.step] {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString("files"))
	} else {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionUseIECUnits(true))
	}
	return progressbar.NewOptions64(total, opts...)
}

// closeProgress ends a progress display that needs it; the commands call it once the
// core has returned, before they print their result.
func closeProgress(p upgrade.Progress) {
	if c, ok := p.(io.Closer); ok {
		c.Close()
	}
}
