// Package outcome holds the kinds of error that decide what a run reports and which exit
// code the command line gives: unusable input, a refusal, a failed update that was rolled
// back, and one whose rollback failed too.
package outcome

import "errors"

// Exit codes of the command line (SPEC section 5).
const (
	ExitOK         = 0
	ExitInternal   = 1
	ExitUnusable   = 2
	ExitRefused    = 3
	ExitRolledBack = 4
	ExitBroken     = 5
)

// UnusableError marks input the program cannot use: a usage error, an unreadable or
// malformed package, a bad signature, an unreadable installation.
type UnusableError struct{ Err error }

func (e *UnusableError) Error() string { return e.Err.Error() }
func (e *UnusableError) Unwrap() error { return e.Err }

// Unusable marks err as unusable input. A nil err stays nil.
func Unusable(err error) error {
	if err == nil {
		return nil
	}
	return &UnusableError{Err: err}
}

// RefusedError is a refusal: the input is fine, but the rules say no. Reason is a stable
// code (for logs, -json and translation); Requires, when set, is the version to install
// first.
type RefusedError struct {
	Reason   Reason
	Requires string
	Err      error
}

func (e *RefusedError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "refused: " + string(e.Reason)
}
func (e *RefusedError) Unwrap() error { return e.Err }

// FailedError is an update that failed after it changed something. RolledBack says whether
// the installation is back as it was, service running; when it is not, Manual says what
// to do by hand.
type FailedError struct {
	RolledBack bool
	Err        error
	Manual     string
}

func (e *FailedError) Error() string {
	msg := e.Err.Error()
	if e.RolledBack {
		return msg + " (rolled back: the installation is as it was and its service runs)"
	}
	if e.Manual != "" {
		return msg + "; the rollback failed too: " + e.Manual
	}
	return msg + "; the rollback failed too"
}
func (e *FailedError) Unwrap() error { return e.Err }

// ExitCode maps an error to the command line's exit code.
func ExitCode(err error) int {
	var (
		unusable *UnusableError
		refused  *RefusedError
		failed   *FailedError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &failed):
		if failed.RolledBack {
			return ExitRolledBack
		}
		return ExitBroken
	case errors.As(err, &refused):
		return ExitRefused
	case errors.As(err, &unusable):
		return ExitUnusable
	default:
		return ExitInternal
	}
}
