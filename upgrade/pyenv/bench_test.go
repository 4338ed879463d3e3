package pyenv

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkOpen300 reads an environment of 300 distributions: a site-packages folder, and
// the interpreter of a venv without system site-packages (answered from its layout). pip
// list takes about half a second for the same.
func BenchmarkOpen300(b *testing.B) {
	ctx := context.Background()
	site := filepath.Join(b.TempDir(), "lib", "python3.11", "site-packages")
	for i := range 300 {
		writeDistInfo(b, site, fmt.Sprintf("Bench_Pkg.%d", i), fmt.Sprintf("1.%d.0", i))
	}
	b.Run("site-packages", func(b *testing.B) {
		for b.Loop() {
			env, err := Open(ctx, site, Options{})
			if err != nil || len(env.Dists) != 300 {
				b.Fatalf("Open = %d dists, %v", len(env.Dists), err)
			}
		}
	})
	b.Run("venv-interpreter", func(b *testing.B) {
		needPython(b)
		venv := filepath.Join(b.TempDir(), "venv")
		python := makeVenv(b, venv, "--without-pip")
		vsite := sitePackagesDir(b, venv)
		for i := range 300 {
			writeDistInfo(b, vsite, fmt.Sprintf("Bench_Pkg.%d", i), fmt.Sprintf("1.%d.0", i))
		}
		b.ResetTimer()
		for b.Loop() {
			env, err := Open(ctx, python, Options{})
			if err != nil || len(env.Dists) != 300 {
				b.Fatalf("Open = %d dists, %v", len(env.Dists), err)
			}
		}
	})
}
