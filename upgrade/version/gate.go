package version

import (
	"fmt"

	"omflow-upgrade/upgrade/outcome"
)

// Reason codes of a verdict. They are stable: logs, -json and the wizard's translations
// use them.
const (
	ReasonFixRelease        outcome.Reason = "fix-release"         // same feature version
	ReasonFeatureRelease    outcome.Reason = "feature-release"     // the first release of a later feature version
	ReasonClimb             outcome.Reason = "climb-to-1.1.4.0"    // below 1.1.4.0, the next first release on the way
	ReasonFromLine          outcome.Reason = "from-line"           // the package upgrades from this feature version
	ReasonAlreadyInstalled  outcome.Reason = "already-installed"   // same version
	ReasonDowngrade         outcome.Reason = "downgrade"           // older than installed: rollback is the way back
	ReasonNeedsFirstRelease outcome.Reason = "needs-first-release" // a fix release of another feature version
	ReasonNeedsStepping     outcome.Reason = "needs-1.1.4.0"       // below 1.1.4.0, past it in one go
	ReasonNeedsFromLine     outcome.Reason = "needs-from-line"     // below the package's from line
	ReasonFromMismatch      outcome.Reason = "from-mismatch"       // past the package's from line: no version helps
)

// Stepping is the release from which the newest update file may be used; below it an
// installation climbs in version order up to it.
var Stepping = Version{Major: 1, Minor: 1, Feature: 4}

// Verdict says whether an update may be installed, why, and when refused, which version
// to install first (nil when no version helps).
type Verdict struct {
	Allowed  bool
	Reason   outcome.Reason
	Requires *Version
}

// Err is nil for an allowed update and a *outcome.RefusedError otherwise.
func (v Verdict) Err(installed, update Version) error {
	if v.Allowed {
		return nil
	}
	e := &outcome.RefusedError{Reason: v.Reason}
	msg := fmt.Sprintf("update %s cannot be installed on %s: %s", update, installed, Explain(v.Reason))
	if v.Requires != nil {
		e.Requires = v.Requires.String()
		msg += fmt.Sprintf("; install %s first", v.Requires)
	}
	e.Err = fmt.Errorf("%s", msg)
	return e
}

// Explain gives the English sentence for a reason code (logs and the CLI; the wizard has
// its own translations).
func Explain(reason outcome.Reason) string {
	switch reason {
	case ReasonFixRelease:
		return "a fix release of the installed feature version"
	case ReasonFeatureRelease:
		return "the first release of a later feature version"
	case ReasonClimb:
		return "the next step on the way up to 1.1.4.0"
	case ReasonFromLine:
		return "the update is built for the installed feature version"
	case ReasonAlreadyInstalled:
		return "this version is already installed"
	case ReasonDowngrade:
		return "the update is older than the installed version (rollback is the way back)"
	case ReasonNeedsFirstRelease:
		return "a fix release of another feature version needs that feature version's first release"
	case ReasonNeedsStepping:
		return "below 1.1.4.0, upgrade in version order up to 1.1.4.0 first"
	case ReasonNeedsFromLine:
		return "the update upgrades from a later feature version than the installed one"
	case ReasonFromMismatch:
		return "the update is built for an older feature version; this installation needs an update built for its own"
	}
	return string(reason)
}

// Gate applies OMFLOW's update rules (SPEC 4.1). from is the feature version the package
// says it upgrades from, or nil. A hotfix label takes part in ordering (a package equal to
// the installed version, label included, is already installed) but never changes which
// feature version a release belongs to.
func Gate(installed, update Version, from *Line) Verdict {
	switch c := update.Compare(installed); {
	case c == 0:
		return refuse(ReasonAlreadyInstalled, nil)
	case c < 0:
		return refuse(ReasonDowngrade, nil)
	}
	below := installed.Less(Stepping)
	if from != nil {
		switch c := installed.Line().Compare(*from); {
		case c == 0:
			return allow(ReasonFromLine)
		case c > 0:
			return refuse(ReasonFromMismatch, nil)
		}
		first := from.First()
		if below && Stepping.Less(first) {
			return refuse(ReasonNeedsStepping, &Stepping)
		}
		return refuse(ReasonNeedsFromLine, &first)
	}
	if installed.Line() == update.Line() {
		return allow(ReasonFixRelease)
	}
	if below && Stepping.Line().Compare(update.Line()) < 0 {
		return refuse(ReasonNeedsStepping, &Stepping)
	}
	if !update.IsFirstRelease() {
		first := update.Line().First()
		return refuse(ReasonNeedsFirstRelease, &first)
	}
	if below {
		return allow(ReasonClimb)
	}
	return allow(ReasonFeatureRelease)
}

func allow(reason outcome.Reason) Verdict { return Verdict{Allowed: true, Reason: reason} }

func refuse(reason outcome.Reason, requires *Version) Verdict {
	if requires != nil {
		r := *requires
		requires = &r
	}
	return Verdict{Reason: reason, Requires: requires}
}
