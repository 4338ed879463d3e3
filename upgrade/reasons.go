package upgrade

import (
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pyenv"
	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/upgrade/version"
)

// Reason is the stable code of a refusal, or of a check's warning or rule: logs, -json
// and the wizard's translations use it. Every code is below; the packages that decide
// them (version, trust, pyenv, txn...) declare theirs, named here again so that a reader
// and the wizard find them in one place.
type Reason = outcome.Reason

// The version rule (SPEC 4.1): the first four allow, the rest refuse.
const (
	ReasonFixRelease        = version.ReasonFixRelease
	ReasonFeatureRelease    = version.ReasonFeatureRelease
	ReasonClimb             = version.ReasonClimb
	ReasonFromLine          = version.ReasonFromLine
	ReasonAlreadyInstalled  = version.ReasonAlreadyInstalled
	ReasonDowngrade         = version.ReasonDowngrade
	ReasonNeedsFirstRelease = version.ReasonNeedsFirstRelease
	ReasonNeedsStepping     = version.ReasonNeedsStepping
	ReasonNeedsFromLine     = version.ReasonNeedsFromLine
	ReasonFromMismatch      = version.ReasonFromMismatch
	// ReasonBadVersion: the package's or the installation's version cannot be read.
	ReasonBadVersion Reason = "bad-version"
)

// The keys that sign packages (trust).
const (
	ReasonKeyExpired     = trust.ReasonKeyExpired
	ReasonKeyRevoked     = trust.ReasonKeyRevoked
	ReasonPackageRevoked = trust.ReasonPackageRevoked
	ReasonBelowFloor     = trust.ReasonBelowFloor
	ReasonKeysRollback   = trust.ReasonRollback
	// ReasonKeysMissing warns of a package signed directly by a release key, with no
	// keys document (the transition; see pkg.DirectSignatures).
	ReasonKeysMissing Reason = "keys-missing"
	// ReasonLegacy warns of a legacy patch.sh tarball.
	ReasonLegacy Reason = "legacy"
)

// The installation's state and the machine (txn, inuse, reboot, elevate).
const (
	ReasonLockHeld       = outcome.ReasonLockHeld
	ReasonInterruptedRun = outcome.ReasonInterruptedRun
	ReasonNothingToUndo  = outcome.ReasonNothingToUndo
	ReasonDiskSpace      = outcome.ReasonDiskSpace
	ReasonNotElevated    = outcome.ReasonNotElevated
	ReasonFileInUse      = outcome.ReasonFileInUse
	ReasonRebootPending  = outcome.ReasonRebootPending
	ReasonServiceExists  = outcome.ReasonServiceExists
	ReasonStateFolder    = outcome.ReasonStateFolder
	ReasonCrossDevice    = outcome.ReasonCrossDevice
	ReasonTarget         = outcome.ReasonTarget
	ReasonStaging        = outcome.ReasonStaging
	ReasonReadOnly       = outcome.ReasonReadOnly
	// ReasonServiceUnknown warns that the service's state cannot be read.
	ReasonServiceUnknown Reason = "service-unknown"
)

// Python (pyenv, and the move to a new one).
const (
	ReasonPythonMissing   = pyenv.ReasonPythonMissing
	ReasonPythonNoVenv    = pyenv.ReasonPythonNoVenv
	ReasonPipMissing      = pyenv.ReasonPipMissing
	ReasonPackagesMissing = pyenv.ReasonPackagesMissing
	// ReasonPythonMove marks the passed Python check of an update that moves OMFLOW to
	// a newer Python.
	ReasonPythonMove Reason = "python-move"
	// ReasonPythonUnreadable: the new Windows Python cannot be asked what it is.
	ReasonPythonUnreadable Reason = "python-unreadable"
	// ReasonPythonBitness refuses a new Windows Python whose bitness is not Apache's:
	// mod_wsgi loads Python into httpd.exe, which cannot load a DLL of the other bitness.
	ReasonPythonBitness Reason = "python-bitness"
)

// The site's database and config files (SPEC 4.8, 4.9).
const (
	// ReasonDatabaseNotBackedUp refuses an update of an installation whose database our
	// backup cannot hold (not SQLite), until the administrator says it is backed up.
	ReasonDatabaseNotBackedUp Reason = "database-not-backed-up"
	// ReasonDatabaseUnknown warns that settings.py's database cannot be read.
	ReasonDatabaseUnknown Reason = "database-unknown"
	// ReasonDatabaseChangedSince refuses a rollback that would put back the database of
	// before the update after the site has written to it since.
	ReasonDatabaseChangedSince Reason = "database-changed-since"
	// ReasonSchemaUnsafe: the release's schema cannot reach the site's database without
	// dropping or changing something of the site's.
	ReasonSchemaUnsafe Reason = "schema-unsafe"
	// ReasonNewCodeFails: the new release's Django did not migrate or set up against a
	// copy of the site's database.
	ReasonNewCodeFails Reason = "new-code-fails"
	// ReasonConfigConflict refuses an update whose config files were changed on both
	// sides in ways that do not merge, until the administrator chooses -config keep or
	// new.
	ReasonConfigConflict Reason = "config-conflict"
)

// Legacy patches: refused before anything changes.
const (
	// ReasonLegacyInterpreterMissing: patch.sh's #! line names an interpreter this
	// machine lacks (or one that is not an executable file).
	ReasonLegacyInterpreterMissing Reason = "legacy-interpreter-missing"
	// ReasonLegacyInterpreterInvalid: the #! line names no absolute interpreter path.
	ReasonLegacyInterpreterInvalid Reason = "legacy-interpreter-invalid"
	// ReasonLegacyUnsupported: patch.sh does not run on this system (Windows).
	ReasonLegacyUnsupported Reason = "legacy-unsupported"
)

// A plan with no chain.
const (
	ReasonMissingStep   Reason = "missing-step"   // the folder lacks a version on the way (Requires)
	ReasonTargetMissing Reason = "target-missing" // -to names a version the folder does not hold
	ReasonNoPackages    Reason = "no-packages"    // the folder holds no usable package
)

// signatureReason is the warning of a package that is not signed as it should be:
// "signature-unsigned", "signature-tampered"...
func signatureReason(s string) Reason { return Reason("signature-" + s) }
