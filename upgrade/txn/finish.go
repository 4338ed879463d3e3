package txn

// CanFinish tells whether the interrupted run may be finished instead of rolled back:
// the journal says every file was in place and no rollback was journaled, and the file
// system agrees, op by op. The second look matters when a rollback began but could not
// journal it (a full disk): some op is then no longer done, and finishing would leave a
// mixed tree.
func (t *Txn) CanFinish() bool {
	if t.j == nil || !t.j.CanFinish() {
		return false
	}
	for _, op := range t.j.Ops {
		if !t.opDone(op) {
			t.opt.logf("run %s: %s %s is not in place: the run cannot be finished", t.id, op.Kind, op.Path)
			return false
		}
	}
	return true
}

// opDone reads from the file system whether op was carried out and not undone.
func (t *Txn) opDone(op Op) bool {
	target, backup, staged := t.paths(op)
	hasTarget, _ := exists(target)
	hasBackup, _ := exists(backup)
	hasStaged, _ := exists(staged)
	switch op.Kind {
	case Replace:
		return hasBackup && hasTarget && !hasStaged
	case Add:
		return hasTarget && !hasStaged
	case Delete:
		return hasBackup && !hasTarget
	}
	return false
}
