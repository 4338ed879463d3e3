// Package testneed stops a test whose machine lacks what the test needs: a tool, a
// Debian package, root. `make test` installs every package and CI runs it as root, so
// there a missing need is a broken set-up, and the test fails saying what to install. A
// developer running a few tests by hand may set OMFLOW_TEST_ALLOW_SKIP=1 to skip such a
// test instead; CI never sets it.
//
// Tests that do not apply to a platform at all (a Unix path rule on Windows) skip as
// usual; this package is for needs a machine can meet.
package testneed

import (
	"os"
	"testing"
)

// AllowSkip is the variable that turns a missing need into a skip.
const AllowSkip = "OMFLOW_TEST_ALLOW_SKIP"

// Missing ends the test: a failure naming what is missing, or a skip when AllowSkip is
// set to 1.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(AllowSkip) == "1" {
		t.Skipf(format, args...)
	}
	t.Fatalf("missing on this machine: "+format+" (make deps-test installs the packages; "+AllowSkip+"=1 skips instead)", args...)
}

// Root ends the test unless it runs as root, saying why it needs root.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "root: %s (run the tests as root, as CI does)", why)
	}
}
