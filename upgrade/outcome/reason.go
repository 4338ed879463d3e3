package outcome

// Reason is the stable code of a refusal or of a check's warning: logs, -json and the
// wizard's translations use it. upgrade/reasons.go lists every code.
type Reason string

// The codes the packages under upgrade refuse with; the rest are theirs (version, trust,
// pyenv) or upgrade's own.
const (
	ReasonLockHeld       Reason = "lock-held"       // another run holds the installation
	ReasonInterruptedRun Reason = "interrupted-run" // a run waits for recover
	ReasonNothingToUndo  Reason = "nothing-to-undo" // no kept backup left
	ReasonDiskSpace      Reason = "disk-space"      // not enough free space
	ReasonNotElevated    Reason = "not-elevated"    // no administrator rights
	ReasonFileInUse      Reason = "file-in-use"     // another process holds a file open
	ReasonRebootPending  Reason = "reboot-pending"  // Windows renames queued for the next boot
	ReasonServiceExists  Reason = "service-exists"  // a demo's service name is taken
	ReasonStateFolder    Reason = "state-folder"    // the state folder cannot be made
	ReasonCrossDevice    Reason = "cross-device"    // a mount point inside the tree
	ReasonTarget         Reason = "target"          // a path of the update is not what it expects
	ReasonStaging        Reason = "staging"         // a staged copy is missing or wrong
	ReasonReadOnly       Reason = "read-only"       // a folder cannot be written
)
