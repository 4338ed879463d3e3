package pkg

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/internal/testneed"
)

// blocks compresses b as pack does.
func blocks(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := newBlockWriter(&out, 6)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// readGzip reads a compressed stream as a package is read.
func readGzip(b []byte) ([]byte, error) {
	r, err := openGzip(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func testBytes(n int, text bool) []byte {
	rnd := rand.New(rand.NewSource(int64(n)))
	b := make([]byte, n)
	if text {
		words := []string{"def ", "return ", "self", ".objects", "(request)", "\n    ", "omflow", " = "}
		var buf bytes.Buffer
		for buf.Len() < n {
			buf.WriteString(words[rnd.Intn(len(words))])
		}
		return buf.Bytes()[:n]
	}
	rnd.Read(b)
	return b
}

// TestBlocksReadBackByEveryReader: what pack writes reads back the same through this
// reader (block by block, on every core), through Go's standard gzip reader and through
// the gzip tool, which see one ordinary stream.
func TestBlocksReadBackByEveryReader(t *testing.T) {
	gzipTool, err := exec.LookPath("gzip")
	if err != nil {
		testneed.Missing(t, "gzip (apt-get install gzip)")
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"one byte", []byte("x")},
		{"one block less a byte", testBytes(blockSize-1, true)},
		{"one block", testBytes(blockSize, true)},
		{"one block and a byte", testBytes(blockSize+1, true)},
		{"several blocks of text", testBytes(3*blockSize+12345, true)},
		{"several blocks that do not compress", testBytes(2*blockSize+7, false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := blocks(t, tc.in)
			if _, ok := blockLength(z); !ok {
				t.Fatalf("the stream does not start with a block header: % x", z[:blockHeader])
			}
			got, err := readGzip(z)
			if err != nil || !bytes.Equal(got, tc.in) {
				t.Fatalf("read back %d bytes (err %v), want the %d written", len(got), err, len(tc.in))
			}
			zr, err := stdgzip.NewReader(bytes.NewReader(z))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, tc.in) {
				t.Errorf("Go's gzip reader read %d bytes (err %v), want %d", len(got), err, len(tc.in))
			}
			cmd := exec.Command(gzipTool, "-dc")
			cmd.Stdin = bytes.NewReader(z)
			if got, err := cmd.Output(); err != nil || !bytes.Equal(got, tc.in) {
				t.Errorf("gzip -dc read %d bytes (err %v), want %d", len(got), err, len(tc.in))
			}
		})
	}
}

// TestBlocksAreTheSameWhateverTheCores: a package's bytes do not depend on the machine
// that packs it.
func TestBlocksAreTheSameWhateverTheCores(t *testing.T) {
	in := testBytes(5*blockSize+99, true)
	prev := runtime.GOMAXPROCS(1)
	one := blocks(t, in)
	runtime.GOMAXPROCS(4)
	four := blocks(t, in)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(one, four) {
		t.Error("packing on 1 and on 4 cores gave different bytes")
	}
}

// TestBrokenBlocksAreRefused: a damaged or forged block stream is an error naming the
// byte where it goes wrong, never a panic and never more data than a block holds.
func TestBrokenBlocksAreRefused(t *testing.T) {
	good := blocks(t, testBytes(3*blockSize, true))
	first, _ := blockLength(good)
	setLength := func(b []byte, at, n int) []byte {
		binary.LittleEndian.PutUint32(b[at+16:], uint32(n))
		return b
	}
	plain := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := stdgzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	// a member whose header is right but whose deflate data gives more than a block
	bomb := func() []byte {
		var buf bytes.Buffer
		w := newBlockWriter(&buf, 9)
		w.Write(make([]byte, blockSize))
		w.Close()
		one := buf.Bytes()
		// inflate data of two blocks' worth of zeros, framed as one member
		var d bytes.Buffer
		fw, _ := stdgzip.NewWriterLevel(&d, 9)
		fw.Write(make([]byte, 2*blockSize))
		fw.Close()
		deflate := d.Bytes()[10 : d.Len()-8]
		m := append(blockHeaderFor(0), deflate...)
		m = append(m, one[len(one)-8:]...)
		return setLength(m, 0, len(m))
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"cut in a block", good[:first+100], "at byte " + strconv.Itoa(first)},
		{"cut in a header", good[:first+5], "at byte " + strconv.Itoa(first)},
		{"length beyond the file", setLength(bytes.Clone(good), 0, len(good)+1), "byte 0"},
		{"length too large", setLength(bytes.Clone(good), 0, maxBlock+1), "out of range"},
		{"length too small", setLength(bytes.Clone(good), 0, 10), "out of range"},
		{"length one short", setLength(bytes.Clone(good), 0, first-1), "byte 0"},
		{"checksum flipped", func() []byte { b := bytes.Clone(good); b[first-8] ^= 1; return b }(), "checksum or length"},
		{"length in the trailer wrong", func() []byte { b := bytes.Clone(good); b[first-4] ^= 1; return b }(), "checksum or length"},
		{"a plain gzip member after the blocks", append(bytes.Clone(good), plain([]byte("more"))...), "not a block"},
		{"garbage after the blocks", append(bytes.Clone(good), 0, 0, 0), "byte " + strconv.Itoa(len(good))},
		{"more than a block inside one", bomb(), "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readGzip(tc.b)
			if err == nil {
				t.Fatalf("read %d bytes without an error", len(got))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestStoppingEarlyLeavesNothingRunning: a reader closed half-way (apply reads only the
// head of a package first) leaves no goroutine reading the file or decompressing.
func TestStoppingEarlyLeavesNothingRunning(t *testing.T) {
	z := blocks(t, testBytes(8*blockSize, true))
	before := runtime.NumGoroutine()
	for range 20 {
		r, err := openGzip(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	// Close has waited for the reader's goroutines; those of the writer above may still
	// be returning, so the count is given a moment to settle.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after closing 20 readers half-way, %d before", after, before)
	}
}

// TestPackageOfBeforeStillOpens: a package written as one gzip stream (by an older
// pack, or recompressed by hand with gzip) opens and extracts as before.
func TestPackageOfBeforeStillOpens(t *testing.T) {
	gzipTool, err := exec.LookPath("gzip")
	if err != nil {
		testneed.Missing(t, "gzip (apt-get install gzip)")
	}
	k := newKey(t)
	file := goodPackage(t, k, filepath.Join(t.TempDir(), "u.tar.gz"))
	tarBytes, err := exec.Command(gzipTool, "-dc", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gzipTool, "-9c")
	cmd.Stdin = bytes.NewReader(tarBytes)
	one, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := blockLength(one); ok {
		t.Fatal("gzip wrote a block header; the test needs a plain stream")
	}
	old := filepath.Join(t.TempDir(), "old.tar.gz")
	if err := os.WriteFile(old, one, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Open(context.Background(), old, Options{Keys: []minisign.PublicKey{k.pub}})
	if err != nil {
		t.Fatalf("a one-stream package: %v", err)
	}
	dir, err := p.ExtractTemp(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(PayloadDir(dir), "server", "view.txt")); err != nil || string(b) != "new view\n" {
		t.Errorf("extracted view.txt %q (%v)", b, err)
	}
}
