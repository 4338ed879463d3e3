package install

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDetectPython reads the Python folders of testdata/python: OMFLOW's Windows Python\
// (3.7, 32-bit, no pyvenv.cfg, a python.exe that does not run here), a 64-bit
// Python311\, a folder with only its DLL left, venvs, and folders that tell nothing.
func TestDetectPython(t *testing.T) {
	tests := []struct {
		dir           string
		version, from string
		bits          int
		machine       string
		wantErr       string
	}{
		{dir: "omflow-python37-32", version: "3.7", from: FromDLL, bits: 32, machine: "i386"},
		{dir: "python311-64", version: "3.11", from: FromDLL, bits: 64, machine: "amd64"},
		{dir: "dll-only-37-32", version: "3.7", from: FromDLL, bits: 32, machine: "i386"},
		{dir: "venv-38", version: "3.8.18", from: FromPyvenvCfg},
		{dir: "venv-win-311", version: "3.11.9", from: FromPyvenvCfg, bits: 64, machine: "amd64"},
		{dir: "not-pe", wantErr: "no python3X.dll"},
		{dir: "empty", wantErr: "no python.exe"},
		{dir: "no-such-folder", wantErr: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "python", tt.dir)
			got, err := DetectPython(context.Background(), dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), dir) {
					t.Fatalf("DetectPython = %+v, %v; want an error naming %s and containing %q", got, err, dir, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != tt.version || got.From != tt.from || got.Bits != tt.bits || got.Machine != tt.machine {
				t.Fatalf("DetectPython(%s) = %+v; want version %s from %s, %d bits (%s)", tt.dir, got, tt.version, tt.from, tt.bits, tt.machine)
			}
		})
	}
}

// TestDetectPythonAsksTheInterpreter: an interpreter that runs is asked (`--version`),
// before the DLL's name, which gives no patch level.
func TestDetectPythonAsksTheInterpreter(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a shell script stands in for the interpreter")
	}
	dir := writeTree(t, map[string]string{"bin/python3": "#!/bin/sh\necho 'Python 3.7.9' >&2\n", "python37.dll": ""})
	if err := os.Chmod(filepath.Join(dir, "bin", "python3"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := DetectPython(context.Background(), dir)
	if err != nil || got.Version != "3.7.9" || got.From != FromVersion {
		t.Fatalf("DetectPython = %+v, %v; want 3.7.9 from --version", got, err)
	}
}

func TestReadPEMachine(t *testing.T) {
	for _, tt := range []struct {
		file string
		want PEMachine
		bits int
	}{
		{"omflow-python37-32/python.exe", MachineI386, 32},
		{"python311-64/python311.dll", MachineAMD64, 64},
	} {
		m, err := PEMachineOf(filepath.Join("testdata", "python", filepath.FromSlash(tt.file)))
		if err != nil || m != tt.want || m.Bits() != tt.bits {
			t.Errorf("%s: %v (%d bits), %v; want %v", tt.file, m, m.Bits(), err, tt.want)
		}
	}
	for _, b := range [][]byte{nil, []byte("MZ"), []byte("#!/bin/sh\n"), append([]byte("MZ"), make([]byte, 100)...)} {
		if _, err := ReadPEMachine(bytes.NewReader(b)); !errors.Is(err, ErrNotPE) {
			t.Errorf("ReadPEMachine(%q) = %v, want ErrNotPE", b, err)
		}
	}
}

func TestWindowsPythonFolder(t *testing.T) {
	for _, tt := range []struct {
		requires string
		payload  []string
		want     string
	}{
		{"3.11", []string{"omflow/omflow/views.py", "Apache24/conf/httpd.conf"}, "Python311"},
		{"3.11", []string{"Python/Lib/site-packages/x.py", "Python311-32/x"}, "Python311"},
		{"3.11", []string{"python311/Lib/site-packages/omflow.pth"}, "python311"},
		{"3.12", nil, "Python312"},
	} {
		if got := WindowsPythonFolder(tt.requires, tt.payload); got != tt.want {
			t.Errorf("WindowsPythonFolder(%q, %q) = %q, want %q", tt.requires, tt.payload, got, tt.want)
		}
	}
}

// TestPythonDirFollowsApacheHTTPDConf: the installation's Python is the one httpd.conf
// loads, found by its folder's name under the root whatever path Apache writes.
func TestPythonDirFollowsApacheHTTPDConf(t *testing.T) {
	for _, tt := range []struct {
		name, conf string
		dirs       []string
		want       string
	}{
		{"no httpd.conf", "", []string{"Python"}, "Python"},
		{"Python", "WSGIPythonHome \"C:/PROGRA~1/OMFLOW Server/Python\"\r\n", []string{"Python", "Python311"}, "Python"},
		{"Python311", "LoadFile x\r\n  WSGIPythonHome \"C:/PROGRA~1/OMFLOW Server/Python311/\"\r\n", []string{"Python", "Python311"}, "Python311"},
		{"commented out", "#WSGIPythonHome \"C:/x/Python311\"\r\n", []string{"Python", "Python311"}, "Python"},
		{"named folder absent", "WSGIPythonHome C:\\x\\Python312\r\n", []string{"Python"}, "Python"},
		{"not a Python folder", "WSGIPythonHome C:\\x\\Apache24\r\n", []string{"Python", "Apache24"}, "Python"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			for _, d := range tt.dirs {
				files[d+"/README.txt"] = ""
			}
			if tt.conf != "" {
				files["Apache24/conf/httpd.conf"] = tt.conf
			}
			root := writeTree(t, files)
			in := &Installation{Root: root, Layout: Windows}
			if got := in.PythonDir(); got != filepath.Join(root, tt.want) {
				t.Fatalf("PythonDir = %s, want %s", got, filepath.Join(root, tt.want))
			}
			if got := in.Python(); got != filepath.Join(root, tt.want, "python.exe") {
				t.Fatalf("Python = %s", got)
			}
		})
	}
}

func TestRepointHTTPDConf(t *testing.T) {
	conf, err := os.ReadFile(filepath.Join("testdata", "httpd", "python37-32.conf"))
	if err != nil {
		t.Fatal(err)
	}
	got, changes := RepointHTTPDConf(conf, "Python311", "3.11", 32)
	want := strings.NewReplacer(
		`Server/Python/python37.dll"`+"\r\nLoadModule", `Server/Python311/python311.dll"`+"\r\nLoadModule",
		`Server/Python/lib/site-packages/mod_wsgi/server/mod_wsgi.cp37-win32.pyd`, `Server/Python311/lib/site-packages/mod_wsgi/server/mod_wsgi.cp311-win32.pyd`,
		`WSGIPythonHome "C:/PROGRA~1/OMFLOW Server/Python"`, `WSGIPythonHome "C:/PROGRA~1/OMFLOW Server/Python311"`,
		`Server/python/Lib`, `Server/Python311/Lib`,
	).Replace(string(conf))
	if string(got) != want || len(changes) != 4 {
		t.Fatalf("RepointHTTPDConf:\n%s\nwant:\n%s\nchanges: %q", got, want, changes)
	}
	if !strings.Contains(string(got), "#LoadFile \"C:/PROGRA~1/OMFLOW Server/Python/python37.dll\"") || !strings.Contains(string(got), "Server/PythonDocs\"") {
		t.Errorf("a comment or another folder changed:\n%s", got)
	}
	got64, _ := RepointHTTPDConf(conf, "Python311", "3.11", 64)
	if !strings.Contains(string(got64), "mod_wsgi.cp311-win_amd64.pyd") {
		t.Errorf("64-bit module name:\n%s", got64)
	}
	// Already there, or no Python named: nothing to do.
	for _, c := range [][]byte{got, []byte("Listen 80\r\n")} {
		if out, changes := RepointHTTPDConf(c, "Python311", "3.11", 32); string(out) != string(c) || changes != nil {
			t.Errorf("RepointHTTPDConf changed %q: %q", c, changes)
		}
	}
}
