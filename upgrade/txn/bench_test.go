package txn

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkApply20000 applies an update of 20,000 small files (half replaced, half new,
// in 200 folders): Prepare (preflight and journal), Apply and Commit, the part between
// service stop and start. Building the trees is not timed. It runs twice: with the folders
// moved whole where they can be (swap.go), and every file moved alone (as on Windows).
func BenchmarkApply20000(b *testing.B) {
	b.Run("folders", benchmarkApply20000)
	b.Run("files one by one", func(b *testing.B) {
		filesOneByOne(b)
		benchmarkApply20000(b)
	})
}

func benchmarkApply20000(b *testing.B) {
	const n = 20000
	content := make([]byte, 2048)
	for i := range content {
		content[i] = byte('a' + i%26)
	}
	write := func(p string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = Op{Kind: Replace, Path: fmt.Sprintf("server/pkg%03d/mod%05d.py", i%200, i)}
		if i%2 == 1 {
			ops[i] = Op{Kind: Add, Path: fmt.Sprintf("server/new%03d/mod%05d.py", i%200, i)}
		}
	}
	b.ReportAllocs()
	var applying time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		root := b.TempDir()
		state := filepath.Join(root, ".omflow-upgrade")
		for _, op := range ops {
			if op.Kind == Replace {
				write(filepath.Join(root, filepath.FromSlash(op.Path)))
			}
		}
		tx, err := Begin(b.Context(), state, root, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, op := range ops {
			write(filepath.Join(tx.StagingDir(), filepath.FromSlash(op.Path)))
		}
		b.StartTimer()
		if err := tx.Prepare(b.Context(), Plan{From: "1.1.6.1", To: "1.1.6.3", Ops: ops}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := tx.Apply(b.Context()); err != nil {
			b.Fatal(err)
		}
		applying += time.Since(start)
		if _, err := tx.Commit(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		tx.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "files/s")
	// Apply alone is what happens while the service is down.
	b.ReportMetric(float64(applying.Milliseconds())/float64(b.N), "apply-ms/op")
}
