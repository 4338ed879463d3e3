package wizard

import (
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// DefaultLogLines is how many lines a Log keeps when not told otherwise.
const DefaultLogLines = 5000

// flushDelay batches updates from work: however fast lines and progress come, the screen
// is redrawn at most this often, so a chatty process cannot flood the UI goroutine.
const flushDelay = 100 * time.Millisecond

// batch runs fn on the UI goroutine flushDelay after the first trigger since it last
// ran: many triggers from any goroutine, one redraw. fn reads the latest state itself.
type batch struct {
	fn      func()
	mu      sync.Mutex
	pending bool
}

func (b *batch) trigger() {
	b.mu.Lock()
	schedule := !b.pending
	b.pending = true
	b.mu.Unlock()
	if schedule {
		time.AfterFunc(flushDelay, func() {
			// Cleared before fn reads the state: a trigger from now on gets its own run.
			b.mu.Lock()
			b.pending = false
			b.mu.Unlock()
			fyne.Do(b.fn)
		})
	}
}

// Log is a live, read-only log that follows its last line unless the user scrolled up to
// read. Each line is selectable text. Append is safe from any goroutine; only the last
// maxLines lines are kept, so memory stays bounded, and only the lines in view are drawn
// (a list), so a long log costs the window nothing.
type Log struct {
	widget.BaseWidget

	mu      sync.Mutex
	lines   []string // ring buffer of at most max lines, oldest at start
	start   int
	max     int
	dropped int
	redraw  batch

	shown  []string // what the list shows; UI goroutine only
	bottom float32  // scroll offset after the last follow; UI goroutine only
	list   *widget.List
}

// NewLog makes a Log keeping the last maxLines lines (DefaultLogLines if 0).
func NewLog(maxLines int) *Log {
	if maxLines <= 0 {
		maxLines = DefaultLogLines
	}
	l := &Log{max: maxLines}
	l.redraw.fn = l.flush
	l.list = widget.NewList(
		func() int { return len(l.shown) },
		func() fyne.CanvasObject {
			line := widget.NewLabel("")
			line.Selectable = true
			line.Truncation = fyne.TextTruncateEllipsis
			// Log lines sit closer than a label's own padding would put them.
			return container.New(layout.NewCustomPaddedLayout(-theme.InnerPadding()/2, -theme.InnerPadding()/2, 0, 0), line)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(l.shown) {
				o.(*fyne.Container).Objects[0].(*widget.Label).SetText(l.shown[id])
			}
		})
	l.list.HideSeparators = true
	// Tapping a line selects text in it, not the row.
	l.list.OnSelected = func(id widget.ListItemID) { l.list.Unselect(id) }
	l.ExtendBaseWidget(l)
	return l
}

// CreateRenderer shows the lines on the input background, so they read as a box of
// output.
func (l *Log) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	return &logRenderer{bg: bg, list: l.list, objects: []fyne.CanvasObject{bg, l.list}}
}

type logRenderer struct {
	bg      *canvas.Rectangle
	list    *widget.List
	objects []fyne.CanvasObject
}

func (r *logRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	r.list.Resize(size)
}

func (r *logRenderer) MinSize() fyne.Size { return r.list.MinSize() }

func (r *logRenderer) Refresh() {
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.bg.Refresh()
	r.list.Refresh()
}

func (r *logRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *logRenderer) Destroy() {}

// Append adds text as one or more lines (split at newlines).
func (l *Log) Append(text string) {
	text = strings.TrimRight(text, "\n")
	l.mu.Lock()
	for _, line := range strings.Split(text, "\n") {
		if len(l.lines) < l.max {
			l.lines = append(l.lines, line)
			continue
		}
		l.lines[l.start] = line
		l.start = (l.start + 1) % l.max
		l.dropped++
	}
	l.mu.Unlock()
	l.redraw.trigger()
}

// Clear empties the log.
func (l *Log) Clear() {
	l.mu.Lock()
	l.lines, l.start, l.dropped = nil, 0, 0
	l.mu.Unlock()
	fyne.Do(l.flush)
}

// Text is the lines kept, oldest first, joined by newlines (for copying the whole log).
func (l *Log) Text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.snapshotLocked(), "\n")
}

// Len is the number of lines kept.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// Dropped is the number of lines let go to keep the log within its bound.
func (l *Log) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Shown is the text the widget displays now, lines joined by newlines (it lags Text by
// at most one batch). Call it on the UI goroutine.
func (l *Log) Shown() string { return strings.Join(l.shown, "\n") }

// Flush draws the lines appended so far now rather than at the next batch (screenshots,
// tests). Call it on the UI goroutine.
func (l *Log) Flush() { l.flush() }

func (l *Log) snapshotLocked() []string {
	out := make([]string, 0, len(l.lines))
	out = append(out, l.lines[l.start:]...)
	return append(out, l.lines[:l.start]...)
}

// flush shows the kept lines on the UI goroutine, following the end unless the user has
// scrolled up since the last time it followed.
func (l *Log) flush() {
	l.mu.Lock()
	l.shown = l.snapshotLocked()
	l.mu.Unlock()

	follow := l.list.GetScrollOffset() >= l.bottom-1
	l.list.Refresh()
	if follow {
		l.list.ScrollToBottom()
		l.bottom = l.list.GetScrollOffset()
	}
}
