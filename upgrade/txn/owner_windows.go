//go:build windows

package txn

import "context"

// On Windows a rename within a volume moves a file's security descriptor with it: a
// staged copy carries the ACL it inherited in the staging folder, itself inheriting
// from the installation's root. Owners, modes and labels are not set (owner.go).

func (t *Txn) keepOwners(context.Context, []Op, []opStat) error {
	t.owners = ownerState{} // nothing to say: nothing is set
	return nil
}

func (t *Txn) inheritDir(string) {}

func (t *Txn) copyLabel(string, string) error { return nil }

// KeepAttrs does nothing on Windows (see keepOwners).
func KeepAttrs(dst, like string) error { return nil }

// ownerState is empty: Windows files keep the ACL they inherit (see KeepAttrs).
type ownerState struct{}

// getLabel: no label is read on Windows.
func getLabel(string, bool) ([]byte, error) { return nil, nil }
