package install

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/version"
)

func TestReadVersionFile(t *testing.T) {
	tests := []struct {
		file    string
		want    string
		wantErr string
	}{
		{"version-crlf.bin", "1.1.6.3", ""},
		{"version-bom-label.bin", "1.2.0.0fix1", ""},
		{"version-num-only.bin", "1.1.4.0", ""},
		{"version-garbage.bin", "", "no version= line"},
		{"version-short.bin", "", `"1.2.0"`},
		{"no-such-file.bin", "", "no-such-file.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			v, err := ReadVersionFile(filepath.Join("testdata", tt.file))
			if tt.wantErr != "" {
				var u *outcome.UnusableError
				if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want an unusable-input error containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.file) {
					t.Fatalf("err = %v does not name the file", err)
				}
				return
			}
			if err != nil || v.String() != tt.want {
				t.Fatalf("got %v, %v; want %s", v, err, tt.want)
			}
		})
	}
}

func TestVersionFileContentKeepsLineEnds(t *testing.T) {
	v := version.MustParse("1.2.0.1")
	if got := string(VersionFileContent("testdata/version-crlf.bin", v)); got != "version=1.2.0.1\r\nversion_num=001002000001\r\n" {
		t.Fatalf("CRLF file: %q", got)
	}
	if got := string(VersionFileContent("testdata/version-num-only.bin", v)); got != "version=1.2.0.1\nversion_num=001002000001\n" {
		t.Fatalf("LF file: %q", got)
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDetect(t *testing.T) {
	linux := writeTree(t, map[string]string{
		"server/omflow/syscom/version.bin": "version=1.1.6.1\nversion_num=001001006001\n",
		ConfigName:                         `{"health_url": "http://127.0.0.1:8080/accounts/login/", "keep_backups": 5}`,
	})
	in, err := Detect(linux, Config{KeepBackups: 2})
	if err != nil {
		t.Fatal(err)
	}
	if in.Layout != Linux || in.Version.String() != "1.1.6.1" {
		t.Fatalf("got %s %s", in.Layout, in.Version)
	}
	if in.HealthURL() != "http://127.0.0.1:8080/accounts/login/" {
		t.Fatalf("health URL from omflow-upgrade.json not used: %s", in.HealthURL())
	}
	if in.KeepBackups() != 2 {
		t.Fatalf("flag did not override the file: keep %d", in.KeepBackups())
	}
	if got := in.Control()[0]; got != filepath.Join(linux, "server", "omflow_server") {
		t.Fatalf("control = %s", got)
	}
	if got := in.Python(); got != filepath.Join(linux, "python", "bin", "python3") {
		t.Fatalf("python = %s", got)
	}

	windows := writeTree(t, map[string]string{"omflow/omflow/syscom/version.bin": "version=1.1.6.1\r\n"})
	in, err = Detect(windows, Config{})
	if err != nil || in.Layout != Windows {
		t.Fatalf("windows layout: %v %v", in, err)
	}
	if got := in.Python(); got != filepath.Join(windows, "Python", "python.exe") {
		t.Fatalf("python = %s", got)
	}
}

func TestDetectRefusesWhatIsNoInstallation(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(empty, "a-file")
	os.WriteFile(file, nil, 0o644)
	badConfig := writeTree(t, map[string]string{
		"server/omflow/syscom/version.bin": "version=1.1.6.1\n",
		ConfigName:                         `{"helth_url": "typo"}`,
	})
	badVersion := writeTree(t, map[string]string{"server/omflow/syscom/version.bin": "version=one\n"})
	tests := []struct {
		name, root, want string
	}{
		{"missing", filepath.Join(empty, "nope"), "nope"},
		{"a file", file, "is not a folder"},
		{"empty folder", empty, "is not an OMFLOW installation"},
		{"config with unknown field", badConfig, "helth_url"},
		{"unreadable version", badVersion, "version.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Detect(tt.root, Config{})
			if outcome.ExitCode(err) != outcome.ExitUnusable || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want unusable input mentioning %q", err, tt.want)
			}
		})
	}
}

// WriteFileAtomic keeps the mode of the file it replaces (the owner too, as root); a new
// file gets the mode asked for.
func TestWriteFileAtomic(t *testing.T) {
	for _, tc := range []struct {
		name string
		old  os.FileMode // 0: no file before
		want os.FileMode
	}{
		{"replaces a 0600 file", 0o600, 0o600},
		{"replaces a 0640 file", 0o640, 0o640},
		{"new file", 0, 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "version.bin")
			if tc.old != 0 {
				os.WriteFile(p, []byte("old"), tc.old)
				os.Chmod(p, tc.old)
			}
			if err := WriteFileAtomic(p, []byte("new"), 0o644); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(p)
			st, _ := os.Stat(p)
			if string(b) != "new" || st.Mode().Perm() != tc.want {
				t.Fatalf("content %q mode %v, want %v", b, st.Mode(), tc.want)
			}
			entries, _ := os.ReadDir(filepath.Dir(p))
			if len(entries) != 1 {
				t.Fatalf("left temporary files: %v", entries)
			}
		})
	}
}
