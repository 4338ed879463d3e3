package pkg

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand"
	"testing"
	"testing/iotest"
)

// TestReadAheadPassesEverythingThrough reads streams of many chunks (more than the
// buffers in flight) in reads of odd sizes: the bytes come through whole and in order.
func TestReadAheadPassesEverythingThrough(t *testing.T) {
	for _, size := range []int{0, 1, readAheadChunk - 1, readAheadChunk, readAheadChunk + 1, (readAheadDepth + 5) * readAheadChunk, 11*readAheadChunk + 12345} {
		data := make([]byte, size)
		rand.New(rand.NewSource(int64(size))).Read(data)
		ra := newReadAhead(iotest.HalfReader(bytes.NewReader(data)))
		var got bytes.Buffer
		buf := make([]byte, 7777)
		for {
			n, err := ra.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
		}
		ra.Close()
		if sha256.Sum256(got.Bytes()) != sha256.Sum256(data) {
			t.Fatalf("size %d: %d bytes came through, not the same", size, got.Len())
		}
	}
}

func TestReadAheadPassesTheError(t *testing.T) {
	boom := errors.New("truncated")
	ra := newReadAhead(io.MultiReader(bytes.NewReader(make([]byte, 3*readAheadChunk)), iotest.ErrReader(boom)))
	defer ra.Close()
	if _, err := io.Copy(io.Discard, ra); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}
