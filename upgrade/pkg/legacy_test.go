package pkg

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
)

// The names the seed and OMFLOW's practice give patches: a hotfix label attached to the
// fourth number is part of the version, a label after '_' or '-' is only shown.
func TestLegacyName(t *testing.T) {
	cases := []struct {
		file, version, label string
		ok                   bool
	}{
		{"omflow_patch_1_2_0_0.tar.gz", "1.2.0.0", "", true},
		{"/tmp/omflow_patch_1_1_6_3.tgz", "1.1.6.3", "", true},
		{"omflow_patch_1_1_6_4_upgrade3.tar.gz", "1.1.6.4", "upgrade3", true},
		{"omflow_patch_1_1_6_4-upgrade3.tar.gz", "1.1.6.4", "upgrade3", true},
		{"omflow_patch_1_1_6_4_upgrade3.tgz", "1.1.6.4", "upgrade3", true},
		{"omflow_patch_1_1_6_3fix3.tar.gz", "1.1.6.3fix3", "", true},
		{"omflow_patch_1_1_6_3fix3_upgrade1.tar.gz", "1.1.6.3fix3", "upgrade1", true},
		{"omflow_patch_1_1_6_4upgrade3.tar.gz", "1.1.6.4upgrade3", "", true},
		{"omflow_patch_1_2_0_0_ubuntu-22.04.tar.gz", "1.2.0.0", "ubuntu-22.04", true},
		{"omflow_patch_1_2_0.tar.gz", "", "", false},
		{"omflow_patch_1_2_0_0.zip", "", "", false},
		{"omflow_patch_01_2_0_0.tar.gz", "", "", false},
		{"omflow_patch_1_2_0_0_.tar.gz", "", "", false},
		{"omflow_patch_1_2_0_0__x.tar.gz", "", "", false},
		{"omflow_patch_1_1_6_3fix.3.tar.gz", "", "", false},
		{"patch.tar.gz", "", "", false},
	}
	for _, c := range cases {
		v, label, ok := LegacyName(c.file)
		if v != c.version || label != c.label || ok != c.ok {
			t.Errorf("LegacyName(%q) = %q, %q, %v; want %q, %q, %v", c.file, v, label, ok, c.version, c.label, c.ok)
		}
		if v, ok := LegacyVersion(c.file); v != c.version || ok != c.ok {
			t.Errorf("LegacyVersion(%q) = %q, %v; want %q without the label", c.file, v, ok, c.version)
		}
	}
}

func TestParseShebang(t *testing.T) {
	long := "#!/bin/bash -" + strings.Repeat("x", 300) + "\n"
	cases := []struct {
		script, line, interp, arg string
	}{
		{"#!/bin/bash\necho hi\n", "#!/bin/bash", "/bin/bash", ""},
		{"#!/usr/bin/env bash\n", "#!/usr/bin/env bash", "/usr/bin/env", "bash"},
		{"#!/bin/bash -e\n", "#!/bin/bash -e", "/bin/bash", "-e"},
		// one argument, however many words: what the kernel passes
		{"#! \t/bin/bash  -e -x \t\n", "#! \t/bin/bash  -e -x", "/bin/bash", "-e -x"},
		{"#!/bin/bash\r\necho hi\r\n", "#!/bin/bash", "/bin/bash", ""},
		{"#!/bin/bash -e\r\n", "#!/bin/bash -e", "/bin/bash", "-e"},
		{"#!/bin/sh", "#!/bin/sh", "/bin/sh", ""},
		{"#!\n", "#!", "", ""},
		{"#!bash\n", "#!bash", "bash", ""},
		{long, long[:shebangMax], "/bin/bash", long[len("#!/bin/bash "):shebangMax]},
		{"echo hi\n", "", "", ""},
		{"\xef\xbb\xbf#!/bin/bash\n", "", "", ""}, // the kernel sees no #! there either
		{" #!/bin/bash\n", "", "", ""},
		{"", "", "", ""},
	}
	for _, c := range cases {
		line, interp, arg := parseShebang([]byte(c.script))
		if line != c.line || interp != c.interp || arg != c.arg {
			t.Errorf("parseShebang(%q) = %q, %q, %q; want %q, %q, %q", c.script, line, interp, arg, c.line, c.interp, c.arg)
		}
	}
}

// A patch's own version.bin, where the seed's patches would carry it, says its version;
// the file name still gives the label.
func TestLegacyVersionFile(t *testing.T) {
	const dir = "omflow_patch_1_1_6_4_upgrade4/" // the seed's tarball unpacks into another name
	script := reg(dir+"patch.sh", "#!/bin/bash -e\r\necho patched\r\n")
	cases := []struct {
		name     string
		file     string
		members  []tarMember
		version  string
		label    string
		from     string
		disagree bool
		want     string
	}{
		{"name only", "omflow_patch_1_1_6_4_upgrade3.tar.gz", []tarMember{script, reg(dir+"server/omflow/views.py", "x")},
			"1.1.6.4", "upgrade3", "", false, ""},
		{"version.bin overrides the name", "omflow_patch_1_1_6_4_upgrade3.tar.gz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "version=1.1.6.5\nversion_num=001001006005\n")},
			"1.1.6.5", "upgrade3", dir + "server/omflow/syscom/version.bin", true, ""},
		{"version.bin agrees", "omflow_patch_1_1_6_4-upgrade3.tar.gz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "\xef\xbb\xbfversion=1.1.6.4\r\nversion_num=001001006004\r\n")},
			"1.1.6.4", "upgrade3", dir + "server/omflow/syscom/version.bin", false, ""},
		{"version.bin's hotfix label", "omflow_patch_1_1_6_3.tar.gz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "version=1.1.6.3fix3\n")},
			"1.1.6.3fix3", "", dir + "server/omflow/syscom/version.bin", true, ""},
		{"version_num alone", "omflow_patch_1_2_0_0.tar.gz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "version_num=001002000000\n")},
			"1.2.0.0", "", dir + "server/omflow/syscom/version.bin", false, ""},
		{"top-level Windows layout, no version in the name", "update.tar.gz",
			[]tarMember{reg("patch.sh", "#!/bin/sh\n"), reg("omflow/syscom/version.bin", "version=1.2.0.1\n")},
			"1.2.0.1", "", "omflow/syscom/version.bin", false, ""},
		{"two that agree", "update.tgz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "version=1.2.0.1\n"), reg("server/omflow/syscom/version.bin", "version=1.2.0.1\r\n")},
			"1.2.0.1", "", dir + "server/omflow/syscom/version.bin", false, ""},
		{"too deep to count", "omflow_patch_1_1_6_4_upgrade3.tar.gz",
			[]tarMember{script, reg(dir+"backup/server/omflow/syscom/version.bin", "version=1.0.0.0\n")},
			"1.1.6.4", "upgrade3", "", false, ""},
		{"two that disagree", "omflow_patch_1_2_0_0.tar.gz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "version=1.2.0.0\n"), reg(dir+"omflow/syscom/version.bin", "version=1.1.6.4\n")},
			"", "", "", false, "disagree on the version"},
		{"malformed", "omflow_patch_1_2_0_0.tar.gz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "version=1.2.0\n")},
			"", "", "", false, dir + "server/omflow/syscom/version.bin"},
		{"no version line", "omflow_patch_1_2_0_0.tar.gz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "hello\n")},
			"", "", "", false, "no version= line"},
		{"too large", "omflow_patch_1_2_0_0.tar.gz",
			[]tarMember{script, reg(dir+"server/omflow/syscom/version.bin", "version=1.2.0.0\n"+strings.Repeat("#\n", 4<<10))},
			"", "", "", false, "too large for a version file"},
		{"neither", "update.tar.gz", []tarMember{script}, "", "", "", false, "version must be in the file name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), c.file)
			writeTarGz(t, file, c.members)
			var logs []string
			logf := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
			p, err := Open(context.Background(), file, Options{AllowUnsigned: true, Logf: logf})
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) || outcome.ExitCode(err) != outcome.ExitUnusable {
					t.Fatalf("err %v, want exit 2 and %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l := p.Legacy
			if l == nil || p.Version() != c.version || l.Label != c.label || l.VersionFile != c.from {
				t.Fatalf("legacy %+v, want version %q label %q from %q", l, c.version, c.label, c.from)
			}
			if want := c.version + " (" + c.label + ")"; c.label != "" && l.Display() != want {
				t.Errorf("Display() = %q, want %q", l.Display(), want)
			}
			logged := strings.Join(logs, "\n")
			if got := strings.Contains(logged, "the version file wins"); got != c.disagree {
				t.Errorf("disagreement logged: %v, want %v:\n%s", got, c.disagree, logged)
			}
			if !strings.Contains(logged, l.Display()) {
				t.Errorf("the log does not show %q:\n%s", l.Display(), logged)
			}
		})
	}
}

// Open keeps patch.sh's #! line as the kernel splits it, whatever the archive's layout.
func TestLegacyShebang(t *testing.T) {
	cases := []struct {
		members              []tarMember
		shebang, interp, arg string
		script               string
	}{
		{[]tarMember{reg("omflow_patch_1_2_0_0/patch.sh", "#!/usr/bin/env bash\n")}, "#!/usr/bin/env bash", "/usr/bin/env", "bash", "omflow_patch_1_2_0_0/patch.sh"},
		{[]tarMember{reg("./patch.sh", "#!/bin/bash -e\r\n")}, "#!/bin/bash -e", "/bin/bash", "-e", "patch.sh"},
		{[]tarMember{reg("patch.sh", "cp a b\n")}, "", "", "", "patch.sh"},
	}
	for _, c := range cases {
		file := filepath.Join(t.TempDir(), "omflow_patch_1_2_0_0.tar.gz")
		writeTarGz(t, file, c.members)
		p, err := Open(context.Background(), file, Options{AllowUnsigned: true})
		if err != nil {
			t.Fatal(err)
		}
		l := p.Legacy
		if l.Script != c.script || l.Shebang != c.shebang || l.Interpreter != c.interp || l.InterpreterArg != c.arg {
			t.Errorf("%+v, want script %q, #! %q: %q %q", l, c.script, c.shebang, c.interp, c.arg)
		}
	}
}
