package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"omflow-upgrade/upgrade/bundle"
	"omflow-upgrade/upgrade/demo"
)

func TestMain(m *testing.M) {
	if demo.Main(os.Args) {
		os.Exit(0)
	}
	if os.Getenv(bundledEnv) != "" {
		// A bundled copy of this test binary: say where its package went, and what it holds.
		p, cleanup := bundledPackage()
		b, _ := os.ReadFile(p)
		fmt.Printf("%s\n%s", filepath.Base(p), b)
		cleanup()
		if _, err := os.Stat(p); err == nil {
			fmt.Println("\nnot cleaned up")
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const bundledEnv = "OMFLOW_WIZARD_TEST_BUNDLED"

func TestPackageInsideTheProgram(t *testing.T) {
	dir := t.TempDir()
	pkgPath := filepath.Join(dir, "omflow_update_1_1_6_3.tar.gz")
	require.NoError(t, os.WriteFile(pkgPath, []byte("package bytes"), 0o644))
	exe := filepath.Join(dir, "omflow_update_1_1_6_3")
	require.NoError(t, bundle.Append(os.Args[0], pkgPath, exe))
	require.NoError(t, os.Chmod(exe, 0o755))
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), bundledEnv+"=1")
	out, err := cmd.Output()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "omflow_update_1_1_6_3.tar.gz\npackage bytes", string(out))

	// A plain build carries none.
	cmd = exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), bundledEnv+"=1")
	out, err = cmd.Output()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, ".\n", string(out))
}

func TestUsageErrorsExitTwo(t *testing.T) {
	assert.Equal(t, 2, run([]string{"-no-such-flag"}))
	assert.Equal(t, 2, run([]string{"a.tar.gz", "b.tar.gz"}))
}
