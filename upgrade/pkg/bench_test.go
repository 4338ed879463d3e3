package pkg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"aead.dev/minisign"
)

// benchPackage packs n files of size bytes each, about what a fix release carries.
func benchPackage(b *testing.B, n, size int) (string, testKey) {
	b.Helper()
	k := newKey(b)
	src := b.TempDir()
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 7)
	}
	for i := 0; i < n; i++ {
		file := filepath.Join(src, "server", fmt.Sprintf("app%02d", i%50), fmt.Sprintf("f%04d.py", i))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(file, body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	out := filepath.Join(b.TempDir(), "bench.tar.gz")
	if _, err := Pack(context.Background(), PackOptions{SrcDir: src, Out: out, Key: k.priv, Version: "1.2.0.1"}); err != nil {
		b.Fatal(err)
	}
	return out, k
}

// BenchmarkOpen verifies a 2,000-file, 32 MB package (read, hash, check; no writes).
func BenchmarkOpen(b *testing.B) {
	file, k := benchPackage(b, 2000, 16<<10)
	b.SetBytes(2000 * 16 << 10)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Open(context.Background(), file, Options{Keys: []minisign.PublicKey{k.pub}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtract writes the same package into a private folder.
func BenchmarkExtract(b *testing.B) {
	file, k := benchPackage(b, 2000, 16<<10)
	p, err := Open(context.Background(), file, Options{Keys: []minisign.PublicKey{k.pub}})
	if err != nil {
		b.Fatal(err)
	}
	parent := b.TempDir()
	b.SetBytes(2000 * 16 << 10)
	b.ResetTimer()
	for b.Loop() {
		dir, err := p.ExtractTemp(context.Background(), parent)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}
