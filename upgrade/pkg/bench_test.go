package pkg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/trust"
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

// BenchmarkOpenHeadTrust reads what apply reads before extracting (HeadOnly) of the same
// 32 MB package: signed directly, through a keys document, and through one that revokes
// packages (a SHA-256 of the whole file).
func BenchmarkOpenHeadTrust(b *testing.B) {
	file, k := benchPackage(b, 2000, 16<<10)
	root := newKey(b)
	doc, err := trust.Init(root.priv, trust.Change{Add: []minisign.PublicKey{k.pub}, Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	revoking, err := trust.Rotate(doc, root.priv, trust.Change{RevokePackages: []string{strings.Repeat("ab", 32)}, Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	withKeys := func(d *trust.Signed) string {
		members := readTarGz(b, file)
		out := filepath.Join(b.TempDir(), "k.tar.gz")
		var ms []tarMember
		for i, m := range members {
			ms = append(ms, m)
			if i == 1 {
				for _, x := range []struct {
					name string
					body []byte
				}{{KeysName, d.Raw}, {KeysSignatureName, d.Sig}} {
					h := m.h
					h.Name, h.Size = x.name, int64(len(x.body))
					ms = append(ms, tarMember{h: h, body: x.body})
				}
			}
		}
		writeTarGz(b, out, ms)
		return out
	}
	for _, c := range []struct {
		name string
		file string
		opt  Options
	}{
		{"direct", file, Options{Keys: []minisign.PublicKey{k.pub}, HeadOnly: true}},
		{"keys", withKeys(doc), Options{Roots: []minisign.PublicKey{root.pub}, HeadOnly: true}},
		{"keys-revoking-packages", withKeys(revoking), Options{Roots: []minisign.PublicKey{root.pub}, HeadOnly: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p, err := Open(context.Background(), c.file, c.opt)
				if err != nil || p.Signature != SigVerified {
					b.Fatal(err)
				}
			}
		})
	}
}
