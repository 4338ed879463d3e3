package txn

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
)

// opStat is what Prepare reads of one op's files: its target's and its staged copy's
// Lstat, and the target's security label. Read once (preflight and the owners' rules
// share them), on every core: for a large update these reads are most of Prepare's time,
// a system call for each, and the kernel resolves paths on several cores at once.
type opStat struct {
	target, staged       fs.FileInfo
	targetErr, stagedErr error
	label                []byte // the target's; nil when it has none or is absent
	labelErr             error
}

// statOps reads the opStat of each of ops, in order; staging is the folder of staged
// copies; labels says whether to read the targets' labels (an undo gives no attributes:
// its staged copies are the originals). It stops early when ctx ends (the caller checks
// ctx).
func (t *Txn) statOps(ctx context.Context, ops []Op, staging string, labels bool) []opStat {
	out := make([]opStat, len(ops))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 8) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(ops) {
					return
				}
				op, s := ops[i], &out[i]
				rel := filepath.FromSlash(op.Path)
				target := filepath.Join(t.root, rel)
				s.target, s.targetErr = os.Lstat(target)
				if op.Kind != Delete {
					s.staged, s.stagedErr = os.Lstat(filepath.Join(staging, rel))
					if labels && s.targetErr == nil {
						s.label, s.labelErr = getLabel(target, false)
					}
				}
			}
		})
	}
	wg.Wait()
	return out
}
