package txn

import "errors"

func (t *Txn) prepareTreeUndo(old *Journal) error { return errors.New("not yet") }
