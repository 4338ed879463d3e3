package pkg

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"aead.dev/minisign"
	"github.com/klauspost/compress/gzip"
)

// testKey is a key pair made by GenerateKey, as a release engineer makes one.
type testKey struct {
	pub            minisign.PublicKey
	priv           minisign.PrivateKey
	pubFile, privF string
}

func newKey(t testing.TB) testKey {
	t.Helper()
	pubFile, privFile, err := GenerateKey(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := LoadPrivateKey(privFile, "")
	if err != nil {
		t.Fatal(err)
	}
	return testKey{pub, priv, pubFile, privFile}
}

// writeTree writes files (path -> content) below dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		file := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goodPackage packs a small update the way pack does and returns its path.
func goodPackage(t testing.TB, k testKey, out string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	writeTree(t, src, map[string]string{
		"server/view.txt":           "new view\n",
		"server/omflow/settings.py": "DEBUG = False\n",
		"server/bin/tool.sh":        "#!/bin/sh\necho tool\n",
	})
	if err := os.Chmod(filepath.Join(src, "server/bin/tool.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Pack(context.Background(), PackOptions{SrcDir: src, Out: out, Key: k.priv, Version: "1.1.6.3"}); err != nil {
		t.Fatal(err)
	}
	return out
}

// tarMember is one member of a .tar.gz as a test edits it.
type tarMember struct {
	h    tar.Header
	body []byte
}

func readTarGz(t testing.TB, file string) []tarMember {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []tarMember
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarMember{*h, body})
	}
}

// writeTarGz writes members as they are: the header's size, name and type are not
// checked, so that a test can write what no honest tool would.
func writeTarGz(t testing.TB, file string, members []tarMember) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		h := m.h
		if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
			h.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if len(m.body) > 0 {
			if _, err := tw.Write(m.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func reg(name, body string) tarMember {
	return tarMember{tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}, []byte(body)}
}

// snapshot lists every path below dir with its size and mode, to show that nothing was
// written.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%v %d %v", info.Mode(), info.Size(), info.ModTime())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
