package pkg

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"aead.dev/minisign"
)

// TestConfigsAreReadOnce: check reads a package once. ReadConfigs of a package Open read
// whole answers from what Open read (the file may be gone since); after a HeadOnly open,
// which stops at the manifest, it reads the file itself.
func TestConfigsAreReadOnce(t *testing.T) {
	k := newKey(t)
	for _, tc := range []struct {
		name     string
		headOnly bool
	}{{"whole package read", false}, {"head only", true}} {
		t.Run(tc.name, func(t *testing.T) {
			file := goodPackage(t, k, filepath.Join(t.TempDir(), "u.tar.gz"))
			p, err := Open(context.Background(), file, Options{Keys: []minisign.PublicKey{k.pub}, HeadOnly: tc.headOnly})
			if err != nil {
				t.Fatal(err)
			}
			want, err := p.ReadConfigs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := string(want.New["server/omflow/settings.py"]); got != "DEBUG = False\n" {
				t.Fatalf("settings.py from the package: %q", got)
			}
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
			got, err := p.ReadConfigs(context.Background())
			switch {
			case tc.headOnly && err == nil:
				t.Error("after a HeadOnly open, ReadConfigs answered without reading the package")
			case !tc.headOnly && err != nil:
				t.Errorf("ReadConfigs read the package again: %v", err)
			case !tc.headOnly && string(got.New["server/omflow/settings.py"]) != "DEBUG = False\n":
				t.Errorf("settings.py kept by Open: %q", got.New["server/omflow/settings.py"])
			}
		})
	}
}
