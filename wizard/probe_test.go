package wizard

import (
	"sync/atomic"
	"testing"

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
