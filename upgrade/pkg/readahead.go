package pkg

import (
	"io"
	"sync"
)

// readAhead reads r in a goroutine of its own, a few chunks ahead of the consumer, so
// that decompressing a package overlaps with writing and hashing its files. Close stops
// the goroutine and waits for it; it must be called before r is closed.
type readAhead struct {
	chunks chan []byte
	free   chan []byte
	errc   chan error
	stop   chan struct{}
	done   chan struct{} // closed when fill no longer touches r
	once   sync.Once
	buf    []byte // the chunk being read, whole (it goes back to free)
	cur    []byte // what is left of it
	err    error
}

const (
	readAheadChunk = 1 << 20
	readAheadDepth = 4
)

func newReadAhead(r io.Reader) *readAhead {
	ra := &readAhead{
		chunks: make(chan []byte, readAheadDepth),
		free:   make(chan []byte, readAheadDepth+2),
		errc:   make(chan error, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i := 0; i < readAheadDepth+2; i++ {
		ra.free <- make([]byte, readAheadChunk)
	}
	go ra.fill(r)
	return ra
}

func (ra *readAhead) fill(r io.Reader) {
	defer close(ra.done)
	defer close(ra.chunks)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := io.ReadFull(r, buf[:cap(buf)])
		if n > 0 {
			select {
			case ra.chunks <- buf[:n]:
			case <-ra.stop:
				return
			}
		}
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			ra.errc <- err
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.buf != nil {
			ra.free <- ra.buf[:cap(ra.buf)]
			ra.buf = nil
		}
		buf, ok := <-ra.chunks
		if !ok {
			ra.err = <-ra.errc
			return 0, ra.err
		}
		ra.buf, ra.cur = buf, buf
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops reading ahead and returns once the reader is no longer read: the
// decompressor and the file below it may then be closed (the race detector saw gzip's
// Close run beside a read of the goroutine).
func (ra *readAhead) Close() error {
	ra.once.Do(func() { close(ra.stop) })
	<-ra.done
	return nil
}
