//go:build unix

package txn

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkPrepare5000 times Prepare alone (preflight, the staged copies given the
// owner, mode and label of what they replace, sync, journal) for 5,000 files, half
// replaced, half new, in 100 folders, on a tree owned by another user than the run's
// (www-data when the run is root's): every staged copy then needs its owner changed.
func BenchmarkPrepare5000(b *testing.B) {
	const n = 5000
	uid, gid := otherOwner(b)
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = Op{Kind: Replace, Path: fmt.Sprintf("server/pkg%03d/mod%05d.py", i%100, i)}
		if i%2 == 1 {
			ops[i] = Op{Kind: Add, Path: fmt.Sprintf("server/pkg%03d/new%05d.py", i%100, i)}
		}
	}
	var preparing time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		root := b.TempDir()
		state := filepath.Join(root, ".omflow-upgrade")
		for _, op := range ops {
			if op.Kind == Replace {
				p := filepath.Join(root, filepath.FromSlash(op.Path))
				os.MkdirAll(filepath.Dir(p), 0o750)
				if err := os.WriteFile(p, []byte("old"), 0o640); err != nil {
					b.Fatal(err)
				}
			}
		}
		chownTree(b, filepath.Join(root, "server"), uid, gid)
		tx, err := Begin(b.Context(), state, root, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, op := range ops {
			p := filepath.Join(tx.StagingDir(), filepath.FromSlash(op.Path))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("new"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		if err := tx.Prepare(b.Context(), Plan{From: "1", To: "2", Ops: ops}); err != nil {
			b.Fatal(err)
		}
		preparing += time.Since(start)
		b.StopTimer()
		tx.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(preparing.Milliseconds())/float64(b.N), "prepare-ms/op")
}
