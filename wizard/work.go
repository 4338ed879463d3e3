package wizard

import (
	"context"
	"fmt"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/widget"
)

// Reporter is what long work reports through. Every method is safe from any goroutine.
type Reporter interface {
	// Progress sets the progress bar, 0 to 1.
	Progress(fraction float64)
	// Status sets the one-line text above the bar (the stage the work is in).
	Status(text string)
	// Logf appends a line to the live log.
	Logf(format string, args ...any)
}

var _ Reporter = (*Work)(nil)

// Work shows long work: a status line, a progress bar and a live log. Put it in a step's
// content and hand it to Wizard.Run.
type Work struct {
	widget.BaseWidget

	fraction binding.Float
	status   binding.String
	bar      *widget.ProgressBar
	log      *Log

	mu         sync.Mutex
	lastFrac   float64 // as reported, ahead of the screen by at most one batch
	lastStatus string
	redraw     batch
}

// NewWork makes a Work whose log keeps the last maxLines lines (DefaultLogLines if 0).
func NewWork(maxLines int) *Work {
	w := &Work{fraction: binding.NewFloat(), status: binding.NewString(), log: NewLog(maxLines)}
	w.bar = widget.NewProgressBarWithData(w.fraction)
	w.redraw.fn = w.flush
	w.ExtendBaseWidget(w)
	return w
}

// CreateRenderer puts status and bar on top and lets the log take the rest.
func (w *Work) CreateRenderer() fyne.WidgetRenderer {
	status := widget.NewLabelWithData(w.status)
	status.Truncation = fyne.TextTruncateEllipsis
	return widget.NewSimpleRenderer(container.NewBorder(container.NewVBox(status, w.bar), nil, nil, nil, w.log))
}

// Progress sets the bar, clamped to 0..1. Work may report thousands of times a second;
// the bar catches up within flushDelay.
func (w *Work) Progress(fraction float64) {
	w.mu.Lock()
	w.lastFrac = min(max(fraction, 0), 1)
	w.mu.Unlock()
	w.redraw.trigger()
}

// Status sets the status line (batched as Progress is).
func (w *Work) Status(text string) {
	w.mu.Lock()
	w.lastStatus = text
	w.mu.Unlock()
	w.redraw.trigger()
}

func (w *Work) flush() {
	w.mu.Lock()
	frac, status := w.lastFrac, w.lastStatus
	w.mu.Unlock()
	_ = w.fraction.Set(frac)
	_ = w.status.Set(status)
}

// Logf appends a line to the log.
func (w *Work) Logf(format string, args ...any) { w.log.Append(fmt.Sprintf(format, args...)) }

// Log is the live log, for reading it back or clearing it.
func (w *Work) Log() *Log { return w.log }

// Fraction is the progress as reported last (the bar follows within a batch).
func (w *Work) Fraction() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastFrac
}

// StatusText is the status line as reported last.
func (w *Work) StatusText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastStatus
}

// Shown is the progress and status line the screen shows now. Call it on the UI
// goroutine.
func (w *Work) Shown() (fraction float64, status string) {
	f, _ := w.fraction.Get()
	s, _ := w.status.Get()
	return f, s
}

// Flush shows the last progress and status now rather than at the next batch, and the
// log's lines too (screenshots, tests). Call it on the UI goroutine.
func (w *Work) Flush() {
	w.flush()
	w.log.flush()
}

// Reset empties bar, status and log before the work runs again.
func (w *Work) Reset() {
	w.Progress(0)
	w.Status("")
	w.log.Clear()
}

// Running says whether work started by Run is still going.
func (w *Wizard) Running() bool { return w.stop != nil }

// Run runs fn in its own goroutine, reporting to work, while the window stays live. Back
// and Next are disabled while it runs; Cancel (after the StopTitle question) cancels the
// context fn gets. When fn returns, done runs on the UI goroutine with its error; done
// decides what comes next (typically SetNextEnabled on success, ShowError on failure).
// Run does nothing when work is already running.
func (w *Wizard) Run(work Reporter, fn func(ctx context.Context, r Reporter) error, done func(err error)) {
	if w.Running() {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	w.stop = stop
	w.refreshChrome()
	go func() {
		err := fn(ctx, work)
		stop()
		fyne.Do(func() {
			w.stop = nil
			w.refreshChrome()
			if done != nil {
				done(err)
			}
		})
	}()
}
