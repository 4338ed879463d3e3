package testneed

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingFailsUnlessAllowed runs a test that lacks something, in a child process:
// it fails, naming what is missing, unless OMFLOW_TEST_ALLOW_SKIP=1 makes it a skip.
func TestMissingFailsUnlessAllowed(t *testing.T) {
	if os.Getenv("TESTNEED_CHILD") == "1" {
		Missing(t, "the frobnicator (apt-get install frob)")
		return
	}
	cases := []struct {
		allow    string
		wantFail bool
		want     string
	}{
		{allow: "", wantFail: true, want: "missing on this machine: the frobnicator (apt-get install frob)"},
		{allow: "1", wantFail: false, want: "SKIP: TestMissingFailsUnlessAllowed"},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingFailsUnlessAllowed$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTNEED_CHILD=1", AllowSkip+"="+c.allow)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.wantFail || !strings.Contains(string(out), c.want) {
			t.Errorf("%s=%q: failed=%v, output:\n%s\nwant failed=%v and %q", AllowSkip, c.allow, err != nil, out, c.wantFail, c.want)
		}
	}
}
