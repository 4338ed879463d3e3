package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNewestPackageBesideTheProgram(t *testing.T) {
	dir := t.TempDir()
	assert.Equal(t, "", NewestPackage(dir))
	for _, name := range []string{"omflow_update_1_1_6_3.tar.gz", "omflow_update_1_1_10_0.zip",
		"omflow_update_1_1_9_1.tar.gz", "omflow_update_notes.tar.gz", "omflow_patch_1_2_0_0.tar.gz", "readme.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// By version, not by name: 1.1.10.0 is newer than 1.1.9.1.
	assert.Equal(t, filepath.Join(dir, "omflow_update_1_1_10_0.zip"), NewestPackage(dir))
}
