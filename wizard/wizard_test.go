package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var english = Labels{
	Back: "Back", Next: "Next", Finish: "Finish", Cancel: "Cancel",
	QuitTitle: "Quit?", QuitMessage: "Nothing was changed.",
	StopTitle: "Stop?", StopMessage: "The update will be rolled back.",
	Yes: "Yes", No: "No", Close: "Close",
}

// sample is a five-step wizard: a plain step, one whose Next waits for a check box, a
// skipped one, one that runs work, and a last one.
type sample struct {
	wz                          *Wizard
	win                         fyne.Window
	intro, agree, py, run, done *Step
	agreeBox                    *widget.Check
	work                        *Work
	poke                        *widget.Button
	pokes                       atomic.Int32
	skipPython                  bool
	cancelled, finished         int
	entered                     []string
}

func newSample(t *testing.T) *sample {
	test.NewTempApp(t)
	s := &sample{skipPython: true}
	s.intro = &Step{Title: "Language", Content: widget.NewLabel("pick one"), NextEnabled: true}
	s.agreeBox = widget.NewCheck("I agree", nil)
	s.agree = &Step{Title: "License", Content: s.agreeBox}
	s.agreeBox.OnChanged = func(on bool) { s.agree.SetNextEnabled(on) }
	s.py = &Step{Title: "Python packages", Content: widget.NewLabel("missing"), NextEnabled: true,
		Skip: func() bool { return s.skipPython }}
	s.work = NewWork(100)
	s.poke = widget.NewButton("poke", func() { s.pokes.Add(1) })
	s.run = &Step{Title: "Update", Content: container.NewBorder(nil, s.poke, nil, nil, s.work), NextLabel: "Update", NoBack: true}
	s.done = &Step{Title: "Restart", Content: widget.NewLabel("done"), NextEnabled: true}
	for _, st := range []*Step{s.intro, s.agree, s.py, s.run, s.done} {
		st := st
		st.OnEnter = func() { s.entered = append(s.entered, st.Title) }
	}
	s.win = test.NewTempWindow(t, nil)
	s.wz = New(s.win, english, s.intro, s.agree, s.py, s.run, s.done)
	s.wz.OnCancel = func() { s.cancelled++ }
	s.wz.OnFinish = func() { s.finished++ }
	s.win.SetContent(s.wz)
	s.win.Resize(fyne.NewSize(800, 600))
	return s
}

func TestNextWaitsForTheStep(t *testing.T) {
	s := newSample(t)
	back, next, _ := s.wz.Buttons()

	assert.Equal(t, s.intro, s.wz.Current())
	assert.True(t, back.Disabled(), "no step before the first")
	assert.False(t, next.Disabled())
	test.Tap(next)

	assert.Equal(t, s.agree, s.wz.Current())
	assert.True(t, next.Disabled(), "Next waits for the box")
	test.Tap(next)
	assert.Equal(t, s.agree, s.wz.Current(), "a disabled Next does nothing")

	test.Tap(s.agreeBox)
	assert.False(t, next.Disabled())
	test.Tap(s.agreeBox)
	assert.True(t, next.Disabled(), "unticking disables Next again")

	test.Tap(s.agreeBox)
	test.Tap(next)
	assert.Equal(t, s.run, s.wz.Current())
	assert.Equal(t, "Update", next.Text, "the step names its Next button")
	assert.Equal(t, []string{"Language", "License", "Update"}, s.entered)
}

// The layout: step list left, heading and content right, Cancel left and Back/Next right
// at the bottom (testdata/wizard_first_step.xml).
func TestLayout(t *testing.T) {
	s := newSample(t)
	test.AssertRendersToMarkup(t, "wizard_first_step.xml", s.win.Canvas())
}

func TestBack(t *testing.T) {
	s := newSample(t)
	back, next, _ := s.wz.Buttons()
	test.Tap(next)
	assert.False(t, back.Disabled())
	test.Tap(back)
	assert.Equal(t, s.intro, s.wz.Current())

	test.Tap(next)
	test.Tap(s.agreeBox)
	test.Tap(next)
	assert.Equal(t, s.run, s.wz.Current())
	assert.True(t, back.Disabled(), "the update step forbids Back")
	test.Tap(back)
	assert.Equal(t, s.run, s.wz.Current())
}

func TestOnLeaveCanHoldTheStep(t *testing.T) {
	s := newSample(t)
	hold := true
	var forward []bool
	s.intro.OnLeave = func(f bool) bool { forward = append(forward, f); return !hold }
	_, next, _ := s.wz.Buttons()
	test.Tap(next)
	assert.Equal(t, s.intro, s.wz.Current())
	hold = false
	test.Tap(next)
	assert.Equal(t, s.agree, s.wz.Current())
	assert.Equal(t, []bool{true, true}, forward)
}

func TestSkippedStepIsNeitherShownNorListed(t *testing.T) {
	s := newSample(t)
	_, next, _ := s.wz.Buttons()
	assert.Equal(t, []string{"> Language", "  License", "  Update", "  Restart"}, s.wz.StepList())
	assert.NotContains(t, allText(s.wz), "Python packages")

	test.Tap(next)
	test.Tap(s.agreeBox)
	assert.Equal(t, []string{"+ Language", "> License", "  Update", "  Restart"}, s.wz.StepList())
	test.Tap(next)
	assert.Equal(t, s.run, s.wz.Current(), "Next jumps over the skipped step")

	// The step comes back when its condition changes.
	s.skipPython = false
	s.wz.Refresh()
	assert.Equal(t, []string{"+ Language", "+ License", "+ Python packages", "> Update", "  Restart"}, s.wz.StepList())
	assert.Contains(t, allText(s.wz), "Python packages")
}

func TestSkippedFirstAndLastSteps(t *testing.T) {
	test.NewTempApp(t)
	skip := func() bool { return true }
	a := &Step{Title: "a", Skip: skip, NextEnabled: true}
	b := &Step{Title: "b", NextEnabled: true}
	c := &Step{Title: "c", Skip: skip, NextEnabled: true}
	win := test.NewTempWindow(t, nil)
	wz := New(win, english, a, b, c)
	finished := false
	wz.OnFinish = func() { finished = true }
	win.SetContent(wz)
	_, next, _ := wz.Buttons()
	assert.Equal(t, b, wz.Current())
	assert.Equal(t, "Finish", next.Text, "b is the last step shown")
	test.Tap(next)
	assert.True(t, finished)
}

func TestCancelAsksBeforeLeaving(t *testing.T) {
	s := newSample(t)
	_, _, cancel := s.wz.Buttons()

	test.Tap(cancel)
	require.NotNil(t, s.win.Canvas().Overlays().Top(), "Cancel asks first")
	assert.Contains(t, allText(s.win.Canvas().Overlays().Top()), "Nothing was changed.")
	test.Tap(findButton(t, s.win.Canvas().Overlays().Top(), "No"))
	assert.Equal(t, 0, s.cancelled, "No keeps the wizard")
	assert.Equal(t, s.intro, s.wz.Current())

	test.Tap(cancel)
	test.Tap(findButton(t, s.win.Canvas().Overlays().Top(), "Yes"))
	assert.Equal(t, 1, s.cancelled)
}

func TestLongWorkReportsWhileTheWindowStaysLive(t *testing.T) {
	s := newSample(t)
	back, next, _ := s.wz.Buttons()
	test.Tap(next)
	test.Tap(s.agreeBox)
	test.Tap(next)

	halfway := make(chan struct{})
	release := make(chan struct{})
	var result atomic.Value
	s.wz.Run(s.work, func(ctx context.Context, r Reporter) error {
		r.Status("Backing up")
		for i := 1; i <= 50; i++ {
			r.Progress(float64(i) / 100)
			r.Logf("copied file %d", i)
		}
		close(halfway)
		<-release
		r.Progress(1)
		r.Logf("done")
		return nil
	}, func(err error) {
		result.Store(fmt.Sprint(err))
		s.run.SetNextEnabled(err == nil)
	})

	<-halfway
	assert.True(t, s.wz.Running())
	assert.True(t, next.Disabled(), "Next waits for the work")
	assert.True(t, back.Disabled())
	// The UI goroutine is free: a tap on the same window is handled while the work waits.
	test.Tap(s.poke)
	test.Tap(s.poke)
	assert.EqualValues(t, 2, s.pokes.Load())
	assert.InDelta(t, 0.5, s.work.Fraction(), 1e-9)
	assert.Equal(t, "Backing up", s.work.StatusText())
	assert.Eventually(t, func() bool {
		f, status := s.work.Shown()
		return f == 0.5 && status == "Backing up" && s.work.bar.Value == 0.5
	}, 5*time.Second, 10*time.Millisecond, "progress reaches the bar while the work runs")
	assert.Eventually(t, func() bool {
		return strings.HasSuffix(s.work.Log().Shown(), "copied file 50")
	}, 5*time.Second, 10*time.Millisecond, "log lines reach the screen while the work runs")

	close(release)
	assert.Eventually(t, func() bool { return result.Load() != nil }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "<nil>", result.Load())
	assert.False(t, s.wz.Running())
	assert.False(t, next.Disabled(), "done enabled Next")
	assert.Eventually(t, func() bool { return strings.HasSuffix(s.work.Log().Shown(), "done") },
		5*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1.0, s.work.Fraction())
}

func TestCancelReachesTheWorkContext(t *testing.T) {
	s := newSample(t)
	_, _, cancel := s.wz.Buttons()
	started := make(chan struct{})
	var got atomic.Value
	s.wz.Run(s.work, func(ctx context.Context, r Reporter) error {
		close(started)
		select {
		case <-ctx.Done():
			r.Logf("rolling back")
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("never cancelled")
		}
	}, func(err error) { got.Store(err) })
	<-started

	test.Tap(cancel)
	dlg := s.win.Canvas().Overlays().Top()
	require.NotNil(t, dlg)
	assert.Contains(t, allText(dlg), "rolled back", "Cancel asks before stopping work")
	test.Tap(findButton(t, dlg, "No"))
	assert.True(t, s.wz.Running(), "No lets the work go on")

	test.Tap(cancel)
	test.Tap(findButton(t, s.win.Canvas().Overlays().Top(), "Yes"))
	assert.Eventually(t, func() bool { return got.Load() != nil }, 5*time.Second, 10*time.Millisecond)
	assert.ErrorIs(t, got.Load().(error), context.Canceled)
	assert.Equal(t, 0, s.cancelled, "stopping work does not leave the wizard")
}

func TestRelabelChangesEveryTextAtOnce(t *testing.T) {
	s := newSample(t)
	back, next, cancel := s.wz.Buttons()
	ja := english
	ja.Back, ja.Next, ja.Cancel, ja.Finish = "戻る", "次へ", "キャンセル", "完了"
	s.wz.Relabel(ja)
	s.intro.SetTitle("言語")
	assert.Equal(t, "戻る", back.Text)
	assert.Equal(t, "次へ", next.Text)
	assert.Equal(t, "キャンセル", cancel.Text)
	assert.Equal(t, "> 言語", s.wz.StepList()[0])
	assert.Contains(t, allText(s.wz), "言語")
	assert.NotContains(t, allText(s.wz), "Language")
}

func TestSetNextEnabledFromAnotherGoroutine(t *testing.T) {
	s := newSample(t)
	_, next, _ := s.wz.Buttons()
	test.Tap(next)
	go s.agree.SetNextEnabled(true)
	assert.Eventually(t, func() bool { return !next.Disabled() }, 5*time.Second, 10*time.Millisecond)
}

func TestShowErrorSaysWhatHappenedWhatWasKeptAndWhereTheLogIs(t *testing.T) {
	s := newSample(t)
	s.wz.ShowError(ErrorReport{
		Title:    "The update failed",
		Happened: "The service did not start.",
		Kept:     "OMFLOW was rolled back to 1.1.6.3 and runs.",
		Log:      "Log: /opt/omflow/logs/upgrade.log",
	})
	dlg := s.win.Canvas().Overlays().Top()
	require.NotNil(t, dlg)
	text := allText(dlg)
	for _, want := range []string{"The update failed", "did not start", "rolled back", "/opt/omflow/logs/upgrade.log"} {
		assert.Contains(t, text, want)
	}
	test.Tap(findButton(t, dlg, "Close"))
	assert.Nil(t, s.win.Canvas().Overlays().Top())
}

func TestLogKeepsTheLastLines(t *testing.T) {
	test.NewTempApp(t)
	l := NewLog(1000)
	test.NewTempWindow(t, l)
	for i := 0; i < 12000; i++ {
		l.Append(fmt.Sprintf("line %d", i))
	}
	l.Append("a\nb")
	assert.Equal(t, 1000, l.Len())
	assert.Equal(t, 11002, l.Dropped())
	assert.True(t, strings.HasPrefix(l.Text(), "line 11002\n"), l.Text()[:20])
	assert.True(t, strings.HasSuffix(l.Text(), "line 11999\na\nb"))
	assert.Eventually(t, func() bool { return l.Shown() == l.Text() }, 5*time.Second, 10*time.Millisecond)
}

// However long the log, only the lines in view become widgets.
func TestLogDrawsOnlyTheLinesInView(t *testing.T) {
	test.NewTempApp(t)
	l := NewLog(0)
	w := test.NewTempWindow(t, l)
	w.Resize(fyne.NewSize(400, 300))
	for i := 0; i < DefaultLogLines+100; i++ {
		l.Append(fmt.Sprintf("line %d", i))
	}
	l.Flush()
	assert.Equal(t, DefaultLogLines, l.Len())
	labels := 0
	walk(l, func(o fyne.CanvasObject) {
		if _, ok := o.(*widget.Label); ok {
			labels++
		}
	})
	assert.Positive(t, labels)
	assert.Less(t, labels, 40, "a list draws what is in view")
	assert.Contains(t, allText(l), fmt.Sprintf("line %d", DefaultLogLines+99), "the log follows its end")
}

func TestChecklistMarksItems(t *testing.T) {
	test.NewTempApp(t)
	c := NewChecklist()
	test.NewTempWindow(t, c)
	c.Set("sig", "Signature", Running, "")
	c.Set("ver", "Version", Failed, "Install 1.2.0.0 first.")
	c.Set("sig", "Signature", Passed, "")
	st, _, _, _ := c.Item("sig")
	assert.Equal(t, Passed, st)
	st, _, detail, _ := c.Item("ver")
	assert.Equal(t, Failed, st)
	assert.Equal(t, "Install 1.2.0.0 first.", detail)
	text := allText(c)
	assert.Less(t, strings.Index(text, "Signature"), strings.Index(text, "Version"), "items keep their order")
	assert.Contains(t, text, "Install 1.2.0.0 first.")
	c.Clear()
	_, _, _, ok := c.Item("sig")
	assert.False(t, ok)
}

// allText is every label and button text under o, in order, one a line.
func allText(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			b.WriteString(w.Text + "\n")
		case *widget.Button:
			b.WriteString(w.Text + "\n")
		case *widget.Check:
			b.WriteString(w.Text + "\n")
		}
	})
	return b.String()
}

func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	walk(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
	})
	require.NotNil(t, found, "no button %q", text)
	return found
}

func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	visit(o)
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			walk(c, visit)
		}
	case fyne.Widget:
		if _, leaf := v.(*widget.Label); leaf {
			return
		}
		for _, c := range test.WidgetRenderer(v).Objects() {
			walk(c, visit)
		}
	}
}
