package bundle

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"omflow-upgrade/internal/testneed"
)

func write(t *testing.T, p string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pkgBytes stands for an update package: Append and Find do not look inside.
var pkgBytes = bytes.Repeat([]byte("OMFLOW update package bytes\n"), 1000)

func TestAppendFindExtract(t *testing.T) {
	// Program lengths around a multiple of 8, so the padding takes every value.
	for _, progLen := range []int{0, 1, 7, 8, 9, 1023} {
		dir := t.TempDir()
		prog := write(t, filepath.Join(dir, "wizard.exe"), bytes.Repeat([]byte{0x90}, progLen))
		pkgPath := write(t, filepath.Join(dir, "omflow_update_1_2_0_0.tar.gz"), pkgBytes)
		out := filepath.Join(dir, "omflow_update_1_2_0_0.exe")
		if err := Append(prog, pkgPath, out); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		if len(b)%8 != 0 || !bytes.HasPrefix(b, bytes.Repeat([]byte{0x90}, progLen)) {
			t.Fatalf("program of %d bytes: bundle of %d bytes, not 8-aligned or the program changed", progLen, len(b))
		}
		e, err := Find(out)
		if err != nil {
			t.Fatal(err)
		}
		if e.Name != "omflow_update_1_2_0_0.tar.gz" || e.Offset != int64(progLen) || e.Size != int64(len(pkgBytes)) {
			t.Fatalf("found %+v", e)
		}
		x := t.TempDir()
		p, err := e.Extract(x)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(p); !bytes.Equal(got, pkgBytes) || p != filepath.Join(x, e.Name) {
			t.Fatalf("extracted %s: %d bytes", p, len(got))
		}
		if _, err := Find(prog); !errors.Is(err, ErrNotBundled) {
			t.Fatalf("the plain program: %v, want ErrNotBundled", err)
		}
		if err := Append(out, pkgPath, filepath.Join(dir, "twice.exe")); err == nil || !strings.Contains(err.Error(), "already") {
			t.Fatalf("bundling a bundle: %v", err)
		}
	}
}

func TestDamagedBundles(t *testing.T) {
	dir := t.TempDir()
	prog := write(t, filepath.Join(dir, "wizard.exe"), []byte("MZ program"))
	pkgPath := write(t, filepath.Join(dir, "omflow_update_1_1_6_3.zip"), pkgBytes)
	out := filepath.Join(dir, "bundle.exe")
	if err := Append(prog, pkgPath, out); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(out)
	tests := []struct {
		name   string
		mangle func([]byte) []byte
		find   string // Find's error, or "" when Find succeeds and Extract must fail
		also   error
	}{
		{"first half lost", func(b []byte) []byte { return b[len(b)/2:] }, "does not fit", nil},
		{"truncated download", func(b []byte) []byte { return b[:len(b)-10] }, "no update package", ErrNotBundled},
		{"a byte of the package flipped", func(b []byte) []byte { b[20] ^= 1; return b }, "", nil},
		{"front cut off", func(b []byte) []byte { return b[4:] }, "damaged update package trailer", nil},
		{"unknown format", func(b []byte) []byte { b[len(b)-56]++; return b }, "format 2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, filepath.Join(t.TempDir(), "x.exe"), tt.mangle(bytes.Clone(good)))
			e, err := Find(p)
			if tt.find != "" {
				if err == nil || (tt.also != nil && !errors.Is(err, tt.also)) || (tt.also == nil && !strings.Contains(err.Error(), tt.find)) {
					t.Fatalf("Find: %v, want %q", err, tt.find)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Extract(t.TempDir()); err == nil || !strings.Contains(err.Error(), "SHA-256") {
				t.Fatalf("Extract: %v", err)
			}
		})
	}
}

func TestAppendRefusesBadNames(t *testing.T) {
	dir := t.TempDir()
	prog := write(t, filepath.Join(dir, "wizard.exe"), []byte("MZ"))
	for _, name := range []string{"update.exe", "notes.txt"} {
		p := write(t, filepath.Join(dir, name), pkgBytes)
		if err := Append(prog, p, filepath.Join(dir, "out.exe")); err == nil {
			t.Errorf("Append of %s: no error", name)
		}
	}
}

// TestSignedBundle signs a bundled Windows program as a release does, with osslsigncode
// and a test certificate made by openssl: the signature verifies (it covers the
// package), Find still finds the package before the certificate table, and a program
// signed before bundling is refused.
func TestSignedBundle(t *testing.T) {
	for _, tool := range []string{"go", "openssl", "osslsigncode"} {
		if _, err := exec.LookPath(tool); err != nil {
			testneed.Missing(t, "%s (make deps-test)", tool)
		}
	}
	if testing.Short() {
		t.Skip("builds a Windows program")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	write(t, filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.21\n"))
	write(t, filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() { println(\"hello\") }\n"))
	exe := filepath.Join(dir, "hello.exe")
	run(t, src, []string{"GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod"}, "go", "build", "-o", exe, ".")
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	run(t, dir, nil, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
		"-days", "1", "-subj", "/CN=OMFLOW Upgrade Test Signing", "-addext", "extendedKeyUsage=codeSigning")
	pkgPath := write(t, filepath.Join(dir, "omflow_update_1_2_0_0.tar.gz"), pkgBytes)
	bundled := filepath.Join(dir, "bundled.exe")
	if err := Append(exe, pkgPath, bundled); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "omflow_update_1_2_0_0.exe")
	run(t, dir, nil, "osslsigncode", "sign", "-certs", cert, "-key", key, "-n", "OMFLOW update 1.2.0.0", "-in", bundled, "-out", signed)
	run(t, dir, nil, "osslsigncode", "verify", "-CAfile", cert, "-in", signed)
	e, err := Find(signed)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Extract(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, pkgBytes) {
		t.Fatal("the package extracted from the signed program differs")
	}
	// A changed package byte breaks the signature: the release is tamper-evident twice.
	b, _ := os.ReadFile(signed)
	b[e.Offset+10] ^= 1
	tampered := write(t, filepath.Join(dir, "tampered.exe"), b)
	if out, err := exec.Command("osslsigncode", "verify", "-CAfile", cert, "-in", tampered).CombinedOutput(); err == nil {
		t.Fatalf("osslsigncode verify accepts a changed package:\n%s", out)
	}
	if err := Append(signed, pkgPath, filepath.Join(dir, "again.exe")); err == nil || !strings.Contains(err.Error(), "signed already") {
		t.Fatalf("bundling a signed program: %v", err)
	}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	c := exec.Command(name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
