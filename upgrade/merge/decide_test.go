package merge

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecide(t *testing.T) {
	var (
		base = []byte("DEBUG = False\nALLOWED_HOSTS = []\n\nTIME_ZONE = 'Asia/Taipei'\n\nUSE_TZ = True\n")
		// The administrator's edit (top) and the release's (bottom) are far apart.
		edited   = []byte("DEBUG = False\nALLOWED_HOSTS = ['omflow.example.com']\n\nTIME_ZONE = 'Asia/Taipei'\n\nUSE_TZ = True\n")
		released = []byte("DEBUG = False\nALLOWED_HOSTS = []\n\nTIME_ZONE = 'Asia/Taipei'\n\nUSE_TZ = False\n")
		merged   = []byte("DEBUG = False\nALLOWED_HOSTS = ['omflow.example.com']\n\nTIME_ZONE = 'Asia/Taipei'\n\nUSE_TZ = False\n")
		// Both change the same line.
		clashing = []byte("DEBUG = False\nALLOWED_HOSTS = ['*']\n\nTIME_ZONE = 'Asia/Taipei'\n\nUSE_TZ = True\n")
		empty    = []byte{}
	)
	type want struct {
		action   Action
		result   Outcome
		reason   Reason
		content  []byte // nil: removed / absent
		beside   []byte
		saveOld  bool
		conflict bool
	}
	tests := []struct {
		name string
		in   Input
		want want
	}{
		{"1 absent and deleted by the release",
			Input{Base: base},
			want{ActionKeep, OutcomeKept, ReasonGone, nil, nil, false, false}},
		{"2 absent: added",
			Input{Base: base, Incoming: released},
			want{ActionAdd, OutcomeReplaced, ReasonNew, released, nil, false, false}},
		{"2 absent, no base: added",
			Input{Incoming: released},
			want{ActionAdd, OutcomeReplaced, ReasonNew, released, nil, false, false}},
		{"3 installed is already the package's",
			Input{Base: base, Installed: merged, Incoming: merged},
			want{ActionKeep, OutcomeKept, ReasonSame, merged, nil, false, false}},
		{"3 same, no base, choice ignored",
			Input{Installed: released, Incoming: released, Choice: ChoiceNew},
			want{ActionKeep, OutcomeKept, ReasonSame, released, nil, false, false}},
		{"3 all three equal",
			Input{Base: base, Installed: base, Incoming: base},
			want{ActionKeep, OutcomeKept, ReasonSame, base, nil, false, false}},
		{"4 release deletes an unedited copy",
			Input{Base: base, Installed: base},
			want{ActionDelete, OutcomeReplaced, ReasonUnedited, nil, nil, false, false}},
		{"4 release deletes an unedited empty file",
			Input{Base: empty, Installed: empty},
			want{ActionDelete, OutcomeReplaced, ReasonUnedited, nil, nil, false, false}},
		{"5 release deletes an edited copy",
			Input{Base: base, Installed: edited},
			want{ActionConflict, OutcomeConflict, ReasonEditedDelete, edited, nil, false, false}},
		{"5 release deletes, no base: edited",
			Input{Installed: base},
			want{ActionConflict, OutcomeConflict, ReasonEditedDelete, base, nil, false, false}},
		{"5 release deletes an installed empty file, no base",
			Input{Installed: empty},
			want{ActionConflict, OutcomeConflict, ReasonEditedDelete, empty, nil, false, false}},
		{"5 an unknown choice refuses",
			Input{Base: base, Installed: edited, Choice: "yes"},
			want{ActionConflict, OutcomeConflict, ReasonEditedDelete, edited, nil, false, false}},
		{"6 release deletes an edited copy, keep",
			Input{Base: base, Installed: edited, Choice: ChoiceKeep},
			want{ActionKeep, OutcomeKept, ReasonEditedDelete, edited, nil, false, false}},
		{"7 release deletes an edited copy, new",
			Input{Base: base, Installed: edited, Choice: ChoiceNew},
			want{ActionDelete, OutcomeOldSaved, ReasonEditedDelete, nil, nil, true, false}},
		{"8 no base, copies differ",
			Input{Installed: edited, Incoming: released},
			want{ActionConflict, OutcomeConflict, ReasonNoBase, edited, nil, false, false}},
		{"8 no base, an empty installed file differs",
			Input{Installed: empty, Incoming: released},
			want{ActionConflict, OutcomeConflict, ReasonNoBase, empty, nil, false, false}},
		{"9 no base, keep",
			Input{Installed: edited, Incoming: released, Choice: ChoiceKeep},
			want{ActionKeep, OutcomeNewBeside, ReasonNoBase, edited, released, false, false}},
		{"10 no base, new",
			Input{Installed: edited, Incoming: released, Choice: ChoiceNew},
			want{ActionReplace, OutcomeOldSaved, ReasonNoBase, released, nil, true, false}},
		{"11 unedited copy replaced",
			Input{Base: base, Installed: base, Incoming: released},
			want{ActionReplace, OutcomeReplaced, ReasonUnedited, released, nil, false, false}},
		{"11 unedited copy replaced, choice ignored",
			Input{Base: base, Installed: base, Incoming: released, Choice: ChoiceKeep},
			want{ActionReplace, OutcomeReplaced, ReasonUnedited, released, nil, false, false}},
		{"11 unedited empty file replaced",
			Input{Base: empty, Installed: empty, Incoming: released},
			want{ActionReplace, OutcomeReplaced, ReasonUnedited, released, nil, false, false}},
		{"12 release left it alone: edited copy kept",
			Input{Base: base, Installed: edited, Incoming: base},
			want{ActionKeep, OutcomeKept, ReasonUnchanged, edited, nil, false, false}},
		{"12 line endings are an edit",
			Input{Base: base, Installed: bytes.ReplaceAll(base, []byte("\n"), []byte("\r\n")), Incoming: base},
			want{ActionKeep, OutcomeKept, ReasonUnchanged, bytes.ReplaceAll(base, []byte("\n"), []byte("\r\n")), nil, false, false}},
		{"13 both changed, clean merge",
			Input{Base: base, Installed: edited, Incoming: released},
			want{ActionMerge, OutcomeMerged, ReasonBothChanged, merged, nil, false, false}},
		{"13 clean merge, choice ignored",
			Input{Base: base, Installed: edited, Incoming: released, Choice: ChoiceNew},
			want{ActionMerge, OutcomeMerged, ReasonBothChanged, merged, nil, false, false}},
		{"14 both changed, conflict",
			Input{Base: base, Installed: clashing, Incoming: edited},
			want{ActionConflict, OutcomeConflict, ReasonBothChanged, clashing, nil, false, true}},
		{"15 conflict, keep",
			Input{Base: base, Installed: clashing, Incoming: edited, Choice: ChoiceKeep},
			want{ActionKeep, OutcomeNewBeside, ReasonBothChanged, clashing, edited, false, false}},
		{"16 conflict, new",
			Input{Base: base, Installed: clashing, Incoming: edited, Choice: ChoiceNew},
			want{ActionReplace, OutcomeOldSaved, ReasonBothChanged, edited, nil, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.in)
			w := tt.want
			if got.Action != w.action || got.Result != w.result || got.Reason != w.reason {
				t.Errorf("got %s/%s/%s, want %s/%s/%s", got.Action, got.Result, got.Reason, w.action, w.result, w.reason)
			}
			if !sameFile(got.Content, w.content) {
				t.Errorf("content %q, want %q", got.Content, w.content)
			}
			if !sameFile(got.Beside, w.beside) {
				t.Errorf("beside %q, want %q", got.Beside, w.beside)
			}
			if got.SaveOld != w.saveOld {
				t.Errorf("save old %v, want %v", got.SaveOld, w.saveOld)
			}
			if (got.Conflict != nil) != w.conflict {
				t.Errorf("conflict detail %v, want %v", got.Conflict != nil, w.conflict)
			}
			if got.Refused() != (w.result == OutcomeConflict) {
				t.Errorf("refused %v for result %s", got.Refused(), got.Result)
			}
		})
	}
}

// sameFile compares file contents where nil (absent) and empty (an empty file) differ.
func sameFile(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

func TestDecideConflictDetail(t *testing.T) {
	base := []byte("a = 1\nb = 2\nc = 3\n")
	d := Decide(Input{
		Base: base, Installed: []byte("a = 1\nb = 20\nc = 3\n"), Incoming: []byte("a = 1\nb = 200\nc = 3\n"),
		Labels: Options{OursLabel: "installed", TheirsLabel: "1.2.0.0"},
	})
	if d.Conflict == nil || len(d.Conflict.Conflicts) != 1 {
		t.Fatalf("want one conflict, got %+v", d.Conflict)
	}
	c := d.Conflict.Conflicts[0]
	if string(c.BaseText) != "b = 2\n" || string(c.OursText) != "b = 20\n" || string(c.TheirsText) != "b = 200\n" {
		t.Errorf("texts %q %q %q", c.BaseText, c.OursText, c.TheirsText)
	}
	want := "a = 1\n<<<<<<< installed\nb = 20\n=======\nb = 200\n>>>>>>> 1.2.0.0\nc = 3\n"
	if string(d.Conflict.Merged) != want {
		t.Errorf("merged %q, want %q", d.Conflict.Merged, want)
	}
}

func TestParseChoice(t *testing.T) {
	tests := []struct {
		in   string
		want Choice
		err  error
	}{
		{"", ChoiceNone, nil},
		{"keep", ChoiceKeep, nil},
		{"new", ChoiceNew, nil},
		{"Keep", "", ErrBadChoice},
		{"old", "", ErrBadChoice},
	}
	for _, tt := range tests {
		got, err := ParseChoice(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseChoice(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
