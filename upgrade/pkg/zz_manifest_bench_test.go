package pkg

import (
	"os"
	"testing"
)

func BenchmarkZZParse(b *testing.B) {
	data, _ := os.ReadFile("/tmp/manifest.json")
	for b.Loop() {
		if _, err := ParseManifest(data); err != nil {
			b.Fatal(err)
		}
	}
}
