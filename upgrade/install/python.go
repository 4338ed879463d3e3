package install

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// How PythonInfo.From found a Python's version.
const (
	FromPyvenvCfg = "pyvenv.cfg"       // a venv's pyvenv.cfg (Linux, or a Windows venv)
	FromVersion   = "python --version" // the interpreter answered
	FromDLL       = "dll"              // the name of its python3X.dll (Windows)
	FromRegistry  = "registry"         // HKLM\SOFTWARE\Python\PythonCore (PEP 514)
)

// PythonInfo is what an installation's Python folder says about its interpreter. A real
// Windows OMFLOW's Python\ is a plain Python 3.7 (32-bit) install, not a venv: it has no
// pyvenv.cfg, and its python.exe may not run on the machine that upgrades (a damaged
// install, or tests on Linux), so the version comes from the first of: pyvenv.cfg,
// `python.exe --version`, the python3X.dll beside it, the registry.
type PythonInfo struct {
	Dir     string `json:"dir"`
	Exe     string `json:"exe,omitempty"` // the interpreter, "" when the folder has none
	Version string `json:"version"`       // "3.7.9", or "3.7" from a DLL's name
	From    string `json:"from"`          // FromPyvenvCfg, ...
	// Bits is 32 or 64 from the PE header of python.exe (or the DLL); 0 when unknown
	// (not a Windows program).
	Bits    int    `json:"bits,omitempty"`
	Machine string `json:"machine,omitempty"` // "i386", "amd64", "arm64"
}

// Arch is "32-bit" or "64-bit", as Python's Windows installers name themselves; "" when
// unknown.
func (p PythonInfo) Arch() string { return ArchName(p.Bits) }

// ArchName is "32-bit" or "64-bit" for bits, "" for 0.
func ArchName(bits int) string {
	if bits == 0 {
		return ""
	}
	return fmt.Sprintf("%d-bit", bits)
}

// pythonExeNames are the interpreters a Python folder may hold: Windows, then a venv's.
var pythonExeNames = []string{"python.exe", filepath.Join("bin", "python3"), filepath.Join("bin", "python")}

// dllVersion reads "python37.dll" as 3.7 and "python311.dll" as 3.11 (python3.dll, the
// stable ABI's, names no minor version).
var dllVersion = regexp.MustCompile(`(?i)^python3(\d+)\.dll$`)

// versionOutput is what `python --version` prints: "Python 3.7.9" (on stderr before 3.4).
var versionOutput = regexp.MustCompile(`Python (3\.\d+(?:\.\d+)?)`)

// registryPython looks the folder up among the registered Pythons (PEP 514); nil on
// systems without a registry.
var registryPython func(dir string) (version string, bits int, ok bool)

// DetectPython finds the version and bitness of the Python in dir. An interpreter that
// hangs is given up after a few seconds (ctx bounds it too). A folder whose version
// none of the sources tells is an error naming what was tried.
func DetectPython(ctx context.Context, dir string) (PythonInfo, error) {
	info := PythonInfo{Dir: dir}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return info, fmt.Errorf("python folder %q: not found", dir)
	}
	for _, name := range pythonExeNames {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			info.Exe = p
			break
		}
	}
	dll := pythonDLL(dir)
	for _, p := range []string{info.Exe, dll} {
		if p == "" {
			continue
		}
		if m, err := PEMachineOf(p); err == nil {
			info.Machine, info.Bits = m.String(), m.Bits()
			break
		}
	}

	var tried []string
	if v := pyvenvCfgVersion(filepath.Join(dir, "pyvenv.cfg")); v != "" {
		info.Version, info.From = v, FromPyvenvCfg
		return info, nil
	}
	tried = append(tried, "no pyvenv.cfg")
	if info.Exe != "" {
		v, err := askVersion(ctx, info.Exe)
		if err == nil {
			info.Version, info.From = v, FromVersion
			return info, nil
		}
		if ctx.Err() != nil {
			return info, fmt.Errorf("python version of %q: %w", dir, ctx.Err())
		}
		tried = append(tried, fmt.Sprintf("%s --version: %v", filepath.Base(info.Exe), err))
	} else {
		tried = append(tried, "no python.exe")
	}
	if dll != "" {
		m := dllVersion.FindStringSubmatch(filepath.Base(dll))
		minor, _ := strconv.Atoi(m[1])
		info.Version, info.From = fmt.Sprintf("3.%d", minor), FromDLL
		return info, nil
	}
	tried = append(tried, "no python3X.dll")
	if registryPython != nil {
		if v, bits, ok := registryPython(dir); ok {
			info.Version, info.From = v, FromRegistry
			if info.Bits == 0 {
				info.Bits = bits
			}
			return info, nil
		}
		tried = append(tried, "not in the registry")
	}
	return info, fmt.Errorf("python version of %q: %s (set \"python\" in %s)", dir, strings.Join(tried, "; "), ConfigName)
}

// pythonDLL is the python3X.dll in dir, the newest when there are several; "" when none.
func pythonDLL(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var found []string
	for _, e := range entries {
		if !e.IsDir() && dllVersion.MatchString(e.Name()) {
			found = append(found, e.Name())
		}
	}
	if len(found) == 0 {
		return ""
	}
	// python311.dll after python37.dll: longer names are newer minors.
	sort.Slice(found, func(i, j int) bool {
		if len(found[i]) != len(found[j]) {
			return len(found[i]) < len(found[j])
		}
		return strings.ToLower(found[i]) < strings.ToLower(found[j])
	})
	return filepath.Join(dir, found[len(found)-1])
}

func pyvenvCfgVersion(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var version, info string
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "version":
			version = strings.TrimSpace(v)
		case "version_info":
			info = strings.TrimSpace(v)
		}
	}
	if version == "" {
		version = info
	}
	// version_info is "3.11.9.final.0": the numbers are the version.
	return leadingVersion.FindString(version)
}

var leadingVersion = regexp.MustCompile(`^\d+\.\d+(?:\.\d+)?`)

// askVersion runs `python --version`.
func askVersion(ctx context.Context, exe string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, "--version")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", err
	}
	m := versionOutput.FindStringSubmatch(out.String())
	if m == nil {
		return "", fmt.Errorf("unexpected answer %q", strings.TrimSpace(out.String()))
	}
	return m[1], nil
}

// PEMachine is the machine field of a PE (Windows executable or DLL) file header.
type PEMachine uint16

// The machines Python's Windows builds exist for.
const (
	MachineI386  PEMachine = 0x14c
	MachineAMD64 PEMachine = 0x8664
	MachineARM64 PEMachine = 0xaa64
	MachineARMNT PEMachine = 0x1c4
)

func (m PEMachine) String() string {
	switch m {
	case MachineI386:
		return "i386"
	case MachineAMD64:
		return "amd64"
	case MachineARM64:
		return "arm64"
	case MachineARMNT:
		return "arm"
	}
	return fmt.Sprintf("0x%x", uint16(m))
}

// Bits is 32 or 64; 0 for a machine not listed above.
func (m PEMachine) Bits() int {
	switch m {
	case MachineI386, MachineARMNT:
		return 32
	case MachineAMD64, MachineARM64:
		return 64
	}
	return 0
}

// ErrNotPE is wrapped by PEMachineOf's error for a file that is not a PE program.
var ErrNotPE = errors.New("not a Windows program (no PE header)")

// PEMachineOf reads the machine field of the PE file at path: the DOS header's e_lfanew
// (offset 0x3c) points at "PE\0\0", followed by the COFF header's Machine. Only the
// headers are read; the file need not be a whole program.
func PEMachineOf(path string) (PEMachine, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	m, err := ReadPEMachine(f)
	if err != nil {
		return 0, fmt.Errorf("read %q: %w", path, err)
	}
	return m, nil
}

// ReadPEMachine reads the machine field of a PE file.
func ReadPEMachine(r io.ReaderAt) (PEMachine, error) {
	var dos [64]byte
	if _, err := r.ReadAt(dos[:], 0); err != nil || dos[0] != 'M' || dos[1] != 'Z' {
		return 0, ErrNotPE
	}
	off := int64(binary.LittleEndian.Uint32(dos[0x3c:]))
	var hdr [6]byte
	if _, err := r.ReadAt(hdr[:], off); err != nil || string(hdr[:4]) != "PE\x00\x00" {
		return 0, ErrNotPE
	}
	return PEMachine(binary.LittleEndian.Uint16(hdr[4:])), nil
}

// pythonFolder is a folder directly under a Windows root named like a Python install:
// Python, Python311.
var pythonFolder = regexp.MustCompile(`(?i)^python\d*$`)

// WindowsPythonFolder is the root-relative folder an update's Python goes to on a
// Windows installation: the PythonNNN folder the package's payload writes into (a
// package may ship files for the new Python), else "Python" and the digits of the
// version it requires ("3.11" -> Python311, the seed's path).
func WindowsPythonFolder(requires string, payload []string) string {
	for _, p := range payload {
		first, _, ok := strings.Cut(p, "/")
		if ok && pythonFolder.MatchString(first) && !strings.EqualFold(first, "Python") {
			return first
		}
	}
	return "Python" + strings.ReplaceAll(requires, ".", "")
}

// WindowsPythonDir is the folder of the Python an update requiring requires (with those
// payload paths) wants: ROOT\Python311.
func (in *Installation) WindowsPythonDir(requires string, payload []string) string {
	return filepath.Join(in.Root, WindowsPythonFolder(requires, payload))
}

// ApacheProgram is Apache's httpd.exe of a Windows installation, into which mod_wsgi
// loads Python: its bitness is the one the Python must have.
func (in *Installation) ApacheProgram() string {
	return filepath.Join(in.Root, "Apache24", "bin", "httpd.exe")
}

// modWSGIModule is mod_wsgi's module for a Windows Python: mod_wsgi.cp37-win32.pyd.
var modWSGIModule = regexp.MustCompile(`(?i)mod_wsgi\.cp3\d+-(win32|win_amd64)\.pyd`)

// RepointHTTPDConf points an Apache httpd.conf that loads one Python folder (its
// WSGIPythonHome) at the folder newFolder beside it, for Python newVersion ("3.11") of
// bits (32 or 64): the folder in every path (WSGIPythonHome, LoadFile, LoadModule, the
// WSGI paths), python37.dll's name, and mod_wsgi's module name (cp37-win32 ->
// cp311-win32, win_amd64 for 64 bits). It returns the new text and the lines changed as
// "old -> new"; none when httpd.conf names no Python folder or names newFolder already.
// Line ends and everything else are kept byte for byte.
func RepointHTTPDConf(conf []byte, newFolder, newVersion string, bits int) ([]byte, []string) {
	home := wsgiPythonHome(conf)
	base := home[strings.LastIndexAny(home, `/\`)+1:]
	if home == "" || !pythonFolder.MatchString(base) || strings.EqualFold(base, newFolder) {
		return conf, nil
	}
	newHome := home[:len(home)-len(base)] + newFolder
	digits := strings.ReplaceAll(newVersion, ".", "")
	plat := "win32"
	if bits == 64 {
		plat = "win_amd64"
	}
	var changes []string
	lines := strings.SplitAfter(string(conf), "\n")
	for i, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		out := replaceFolder(line, home, newHome)
		out = pythonDLLInPath.ReplaceAllString(out, "${1}python"+digits+".dll")
		out = modWSGIModule.ReplaceAllString(out, "mod_wsgi.cp"+digits+"-"+plat+".pyd")
		if out != line {
			changes = append(changes, strings.TrimSpace(line)+" -> "+strings.TrimSpace(out))
			lines[i] = out
		}
	}
	return []byte(strings.Join(lines, "")), changes
}

// pythonDLLInPath is a python3X.dll at the end of a path: C:/x/Python/python37.dll".
var pythonDLLInPath = regexp.MustCompile(`(?i)([/\\])python3\d+\.dll`)

// replaceFolder replaces home in line where it is a whole path element (followed by a
// separator, a quote, a space or the end), ASCII case aside, as Windows compares paths.
func replaceFolder(line, home, newHome string) string {
	lower, lh := strings.ToLower(line), strings.ToLower(home)
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(lower[i:], lh)
		if j < 0 {
			b.WriteString(line[i:])
			return b.String()
		}
		j += i
		end := j + len(home)
		if end == len(line) || strings.ContainsRune(`/\"' `+"\t\r\n", rune(line[end])) {
			b.WriteString(line[i:j])
			b.WriteString(newHome)
		} else {
			b.WriteString(line[i:end])
		}
		i = end
	}
}

// wsgiPythonHome is WSGIPythonHome's folder in an Apache configuration's text.
func wsgiPythonHome(conf []byte) string {
	for _, line := range strings.Split(string(conf), "\n") {
		f := strings.Fields(strings.TrimSpace(line))
		if len(f) >= 2 && strings.EqualFold(f[0], "WSGIPythonHome") {
			v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), f[0]))
			return strings.TrimRight(strings.Trim(v, `"'`), `/\`)
		}
	}
	return ""
}
