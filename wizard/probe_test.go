package wizard

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
)

func TestFrameProbeSaysWhenTheWindowIsFirstDrawn(t *testing.T) {
	var drawn atomic.Int32
	probe := NewFrameProbe(func() { drawn.Add(1) })
	w := test.NewWindow(container.NewStack(widget.NewLabel("first screen"), probe))
	defer w.Close()
	assert.Zero(t, drawn.Load(), "nothing drawn yet")

	w.Canvas().Capture()
	assert.EqualValues(t, 1, drawn.Load(), "the first frame")
	w.Canvas().Capture()
	assert.EqualValues(t, 1, drawn.Load(), "once only")
}

func TestReportFirstFrameWritesTheTimeOfTheFirstFrame(t *testing.T) {
	label := widget.NewLabel("first screen")
	assert.Same(t, label, ReportFirstFrame(label, ""), "no file: the content as it is")

	path := filepath.Join(t.TempDir(), "frame")
	before := time.Now().UnixNano()
	w := test.NewWindow(ReportFirstFrame(label, path))
	defer w.Close()
	w.Canvas().Capture()
	assert.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			return false
		}
		at, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return err == nil && at >= before && at <= time.Now().UnixNano()
	}, 5*time.Second, 10*time.Millisecond, "the file holds the frame's time in Unix nanoseconds")
}
