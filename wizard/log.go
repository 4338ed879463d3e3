package wizard

import (
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// DefaultLogLines is how many lines a Log keeps when not told otherwise.
const DefaultLogLines = 5000

// logFlushDelay batches appends: however fast lines come, the text is redrawn at most
// this often, so a chatty process cannot starve the UI goroutine.
const logFlushDelay = 100 * time.Millisecond

// Log is a live, read-only, selectable text that follows its last line. Append is safe
// from any goroutine; only the last maxLines lines are kept, so memory stays bounded.
type Log struct {
	widget.BaseWidget

	mu      sync.Mutex
	lines   []string // ring buffer of at most max lines, oldest at start
	start   int
	max     int
	dropped int
	pending bool

	text   *widget.Label
	scroll *container.Scroll
}

// NewLog makes a Log keeping the last maxLines lines (DefaultLogLines if 0).
func NewLog(maxLines int) *Log {
	if maxLines <= 0 {
		maxLines = DefaultLogLines
	}
	l := &Log{max: maxLines}
	l.text = widget.NewLabel("")
	l.text.Selectable = true
	l.scroll = container.NewScroll(l.text)
	l.ExtendBaseWidget(l)
	return l
}

// CreateRenderer shows the text in a scroller on the input background, so it reads as
// a box of output.
func (l *Log) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	return &logRenderer{bg: bg, objects: []fyne.CanvasObject{bg, l.scroll}, scroll: l.scroll}
}

type logRenderer struct {
	bg      *canvas.Rectangle
	scroll  *container.Scroll
	objects []fyne.CanvasObject
}

func (r *logRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	r.scroll.Resize(size)
}

func (r *logRenderer) MinSize() fyne.Size { return r.scroll.MinSize() }

func (r *logRenderer) Refresh() {
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.bg.Refresh()
	r.scroll.Refresh()
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
	schedule := !l.pending
	l.pending = true
	l.mu.Unlock()
	if schedule {
		time.AfterFunc(logFlushDelay, func() { fyne.Do(l.flush) })
	}
}

// Clear empties the log.
func (l *Log) Clear() {
	l.mu.Lock()
	l.lines, l.start, l.dropped = nil, 0, 0
	l.mu.Unlock()
	fyne.Do(l.flush)
}

// Text is the lines kept, oldest first, joined by newlines.
func (l *Log) Text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.textLocked()
}

// Len is the number of lines kept; Dropped the number of older lines let go.
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

// Shown is the text the widget displays now (it lags Text by at most one flush).
func (l *Log) Shown() string { return l.text.Text }

func (l *Log) textLocked() string {
	var b strings.Builder
	for i := range l.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.lines[(l.start+i)%len(l.lines)])
	}
	return b.String()
}

// Flush draws the lines appended so far now rather than at the next batch (screenshots,
// tests). Call it on the UI goroutine.
func (l *Log) Flush() { l.flush() }

// flush redraws the text on the UI goroutine, following the end unless the user has
// scrolled up to read.
func (l *Log) flush() {
	l.mu.Lock()
	text := l.textLocked()
	l.pending = false
	l.mu.Unlock()

	follow := l.scroll.Offset.Y >= l.scroll.Content.Size().Height-l.scroll.Size().Height-1
	l.text.SetText(text)
	if follow {
		l.scroll.ScrollToBottom()
	}
}
