package merge

import (
	"bytes"
	"errors"
	"fmt"
)

// Action is what `check -files` says the update does to a file (SPEC 5).
type Action string

const (
	ActionAdd      Action = "add"
	ActionReplace  Action = "replace"
	ActionMerge    Action = "merge"
	ActionKeep     Action = "keep"
	ActionConflict Action = "conflict"
	ActionDelete   Action = "delete"
)

// Outcome is the result word of the `config` list of `check -json` and `apply -json`
// (SPEC 5).
type Outcome string

const (
	OutcomeReplaced  Outcome = "replaced"
	OutcomeKept      Outcome = "kept"
	OutcomeMerged    Outcome = "merged"
	OutcomeConflict  Outcome = "conflict"
	OutcomeNewBeside Outcome = "new-beside"
	OutcomeOldSaved  Outcome = "old-saved"
)

// Choice is the administrator's answer to a conflict: the -config flag, the wizard's
// choice. Decide treats any other value as ChoiceNone (the safe side: the run is
// refused); ParseChoice checks user input.
type Choice string

const (
	ChoiceNone Choice = ""     // a conflict refuses the run
	ChoiceKeep Choice = "keep" // the installed copy stays, the package's goes beside it
	ChoiceNew  Choice = "new"  // the package's copy goes in, the installed one is saved
)

// Suffixes of the files written beside a config file.
const (
	NewSuffix = ".omflow-new" // the package's copy, when the installed one is kept
	OldSuffix = ".omflow-old" // the installed copy, when the package's replaces it
)

// ErrBadChoice is returned by ParseChoice for anything but "", "keep" and "new".
var ErrBadChoice = errors.New(`the config choice must be "keep" or "new"`)

// ParseChoice reads a -config value.
func ParseChoice(s string) (Choice, error) {
	switch c := Choice(s); c {
	case ChoiceNone, ChoiceKeep, ChoiceNew:
		return c, nil
	}
	return "", fmt.Errorf("config choice %q: %w", s, ErrBadChoice)
}

// Reason says why a decision is what it is; stable codes for logs and -json, which the
// wizard translates.
type Reason string

const (
	ReasonNew          Reason = "new"           // absent from the installation
	ReasonGone         Reason = "gone"          // absent, and the release deletes it
	ReasonSame         Reason = "same"          // the installed copy is the package's
	ReasonUnedited     Reason = "unedited"      // the installed copy is the base
	ReasonUnchanged    Reason = "unchanged"     // the package's copy is the base
	ReasonBothChanged  Reason = "both-changed"  // both changed: merged three ways
	ReasonNoBase       Reason = "no-base"       // no base known and the copies differ
	ReasonEditedDelete Reason = "edited-delete" // the release deletes an edited copy
)

// Input is what Decide looks at for one config file. nil means absent (or unknown, for
// Base); an empty file is a non-nil empty slice.
type Input struct {
	Base      []byte // the previous release's copy; nil when unknown
	Installed []byte // the administrator's copy; nil when absent
	Incoming  []byte // the package's copy; nil when the release deletes the file
	Choice    Choice
	// Labels for conflict markers; the caller picks words the administrator knows,
	// such as "installed" and "1.2.0.0".
	Labels Options
}

// Decision is what the update does to one config file.
type Decision struct {
	Action Action
	Result Outcome
	Reason Reason
	// Content is what the path holds after the update; nil means the path is removed
	// (or stays absent). Equal to Installed when the file is left alone.
	Content []byte
	// Beside, when not nil, is written as FILE.omflow-new.
	Beside []byte
	// SaveOld asks for the installed copy to be saved as FILE.omflow-old.
	SaveOld bool
	// Conflict is the three-way merge when it conflicted (rows 14-16 of the table), for
	// the wizard to show; nil otherwise, also for conflicts without a base.
	Conflict *Result
}

// Refused reports whether this decision refuses the run (a conflict nobody settled).
func (d Decision) Refused() bool { return d.Result == OutcomeConflict }

// Decide applies the config decision table of the package documentation.
func Decide(in Input) Decision {
	installed, incoming, base := in.Installed, in.Incoming, in.Base
	unchanged := Decision{Action: ActionKeep, Result: OutcomeKept, Content: installed}
	switch {
	case installed == nil && incoming == nil: // row 1
		unchanged.Reason = ReasonGone
		return unchanged
	case installed == nil: // row 2
		return Decision{Action: ActionAdd, Result: OutcomeReplaced, Reason: ReasonNew, Content: incoming}
	case bytes.Equal(installed, incoming) && incoming != nil: // row 3
		unchanged.Reason = ReasonSame
		return unchanged
	case incoming == nil && base != nil && bytes.Equal(installed, base): // row 4
		return Decision{Action: ActionDelete, Result: OutcomeReplaced, Reason: ReasonUnedited}
	case incoming == nil: // rows 5-7
		return settle(in, ReasonEditedDelete, nil)
	case base == nil: // rows 8-10
		return settle(in, ReasonNoBase, nil)
	case bytes.Equal(installed, base): // row 11
		return Decision{Action: ActionReplace, Result: OutcomeReplaced, Reason: ReasonUnedited, Content: incoming}
	case bytes.Equal(incoming, base): // row 12
		unchanged.Reason = ReasonUnchanged
		return unchanged
	}
	res := Merge(base, installed, incoming, in.Labels)
	if res.Clean() { // row 13
		return Decision{Action: ActionMerge, Result: OutcomeMerged, Reason: ReasonBothChanged, Content: res.Merged}
	}
	return settle(in, ReasonBothChanged, &res) // rows 14-16
}

// settle turns a conflict into the administrator's choice, or into a refusal.
func settle(in Input, why Reason, res *Result) Decision {
	switch in.Choice {
	case ChoiceKeep:
		return Decision{Action: ActionKeep, Result: keepResult(in), Reason: why, Content: in.Installed, Beside: in.Incoming}
	case ChoiceNew:
		action := ActionReplace
		if in.Incoming == nil {
			action = ActionDelete
		}
		return Decision{Action: action, Result: OutcomeOldSaved, Reason: why, Content: in.Incoming, SaveOld: true}
	}
	return Decision{Action: ActionConflict, Result: OutcomeConflict, Reason: why, Content: in.Installed, Conflict: res}
}

// keepResult: keeping the installed copy puts the package's beside it, unless the
// release deletes the file and there is nothing to put there.
func keepResult(in Input) Outcome {
	if in.Incoming == nil {
		return OutcomeKept
	}
	return OutcomeNewBeside
}
