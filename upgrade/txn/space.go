package txn

import (
	"fmt"

	"omflow-upgrade/upgrade/outcome"
)

// CheckSpace tells, read-only, whether dir's file system has room for need bytes of
// staged payload plus the journal (what Begin checks): nil, or a refusal with reason
// "disk-space". dir must exist (the installation root will do: the state folder lives in
// it).
func CheckSpace(dir string, need int64) error {
	free, err := freeSpace(dir)
	if err != nil {
		return err
	}
	if free >= 0 && free < need+journalMargin {
		return &outcome.RefusedError{Reason: outcome.ReasonDiskSpace,
			Err: fmt.Errorf("%q has %d MB free, the update needs %d MB", dir, free>>20, (need+journalMargin+(1<<20)-1)>>20)}
	}
	return nil
}
