package wizard

import (
	"image"
	"os"
	"strconv"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// NewFrameProbe is an invisible object (one transparent pixel in the top left corner)
// that calls drawn once, the first time a window paints it. Put it over the window's
// content (container.NewStack(content, probe)): drawn then says the first frame is on
// the screen, to start work that should wait behind it. drawn runs on the UI goroutine
// while the frame is painted, so it must return at once (start a goroutine).
func NewFrameProbe(drawn func()) fyne.CanvasObject {
	var once sync.Once
	blank := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	pixel := canvas.NewRaster(func(w, h int) image.Image {
		once.Do(drawn)
		return blank
	})
	pixel.Resize(fyne.NewSize(1, 1))
	return container.NewWithoutLayout(pixel)
}

// ReportFirstFrame is content with a probe over it that writes the time of its first
// frame (Unix nanoseconds, then a newline) into the file path, for a benchmark of the
// start-up to read; content itself when path is "".
func ReportFirstFrame(content fyne.CanvasObject, path string) fyne.CanvasObject {
	if path == "" {
		return content
	}
	return container.NewStack(content, NewFrameProbe(func() {
		now := time.Now().UnixNano()
		go os.WriteFile(path, []byte(strconv.FormatInt(now, 10)+"\n"), 0o644)
	}))
}
