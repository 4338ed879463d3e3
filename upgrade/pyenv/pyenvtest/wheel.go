// Package pyenvtest builds what tests of Python environments need: wheels, written
// directly as zip files, to install offline with pip.
package pyenvtest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Wheel describes a pure-Python wheel to build.
type Wheel struct {
	Name, Version string
	Requires      []string          // Requires-Dist
	Files         map[string]string // extra files, path inside the wheel -> content
}

var wheelNameEscape = regexp.MustCompile(`[^\w\d.]+`)

// BuildWheel writes a pure-Python wheel of spec into dir and returns its path: a zip of
// the module, NAME-VER.dist-info/{METADATA,WHEEL,RECORD}, and spec.Files.
func BuildWheel(t testing.TB, dir string, spec Wheel) string {
	t.Helper()
	escaped := wheelNameEscape.ReplaceAllString(spec.Name, "_")
	info := escaped + "-" + spec.Version + ".dist-info"
	module := strings.ToLower(strings.NewReplacer("-", "_", ".", "_").Replace(spec.Name))
	files := map[string]string{
		module + "_mod.py": fmt.Sprintf("VERSION = %q\n", spec.Version),
		info + "/METADATA": fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: test wheel\n", spec.Name, spec.Version),
		info + "/WHEEL":    "Wheel-Version: 1.0\nGenerator: pyenv-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
	}
	for _, r := range spec.Requires {
		files[info+"/METADATA"] += "Requires-Dist: " + r + "\n"
	}
	for k, v := range spec.Files {
		files[k] = v
	}
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var record strings.Builder
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[n]))
		sum := sha256.Sum256([]byte(files[n]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(sum[:]), len(files[n]))
	}
	record.WriteString(info + "/RECORD,,\n")
	w, err := zw.Create(info + "/RECORD")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(record.String()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, escaped+"-"+spec.Version+"-py3-none-any.whl")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteDistInfo writes NAME-VER.dist-info/METADATA straight into a site-packages folder,
// the way installers leave it.
func WriteDistInfo(t testing.TB, site, name, version string) {
	t.Helper()
	dir := filepath.Join(site, wheelNameEscape.ReplaceAllString(name, "_")+"-"+version+".dist-info")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version)
	if err := os.WriteFile(filepath.Join(dir, "METADATA"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
}
