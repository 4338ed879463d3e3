package pkg

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// A package's tar stream is written as a series of gzip members ("blocks"), each holding
// blockSize bytes of the stream (the last one less) and giving its own compressed length
// in the gzip header's extra field, subfield "OB" (RFC 1952, 2.3.1.1). Any gzip reader
// (gzip -d, tar xzf, an older omflow-upgrade) reads the series as one stream; this one
// finds every block from the headers alone and decompresses several at once, one per
// core, so that reading a package is no longer bound to one core's inflate speed. A
// .tar.gz without the subfield (a hand-made one, a package of before) is read as one
// stream, as before.
const (
	blockSize = 1 << 20
	// blockHeader is the gzip header pack writes: 10 fixed bytes, XLEN, one subfield
	// "OB" of 4 bytes holding the member's whole length, little-endian.
	blockHeader  = 20
	blockTrailer = 8 // CRC-32 and ISIZE
	// maxBlock bounds a member's compressed length: deflate's stored blocks add 5 bytes
	// to every 64 KiB, so a block that does not compress stays well below it.
	maxBlock = blockSize + blockSize/8
)

// blockHeaderFor is the header of a member of n bytes in all.
func blockHeaderFor(n int) []byte {
	h := []byte{0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255, 8, 0, 'O', 'B', 4, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(h[16:], uint32(n))
	return h
}

// blockLength reads a member's length from its header, or says the header is not one
// pack writes (ok false).
func blockLength(h []byte) (n int, ok bool) {
	want := blockHeaderFor(0)
	if len(h) < blockHeader || !bytes.Equal(h[:4], want[:4]) || !bytes.Equal(h[10:16], want[10:16]) {
		return 0, false
	}
	return int(binary.LittleEndian.Uint32(h[16:20])), true
}

// blockWriter compresses what is written to it into blocks, on every core, and writes
// them to w in order. The same bytes in give the same bytes out, whatever the cores.
type blockWriter struct {
	w       io.Writer
	level   int
	buf     []byte
	pending chan chan compressed // blocks in order, each filled by a worker
	done    chan struct{}        // the writing goroutine has ended
	failed  atomic.Bool          // err is set: stop compressing
	err     error                // the first error, read after done
	closed  bool
	writers sync.Pool // *flate.Writer of level, reused from block to block
}

type compressed struct {
	b   []byte
	err error
}

func newBlockWriter(w io.Writer, level int) *blockWriter {
	bw := &blockWriter{
		w:       w,
		level:   level,
		buf:     make([]byte, 0, blockSize),
		pending: make(chan chan compressed, 2*runtime.GOMAXPROCS(0)),
		done:    make(chan struct{}),
	}
	go bw.drain()
	return bw
}

// drain writes each block as its worker finishes it, in the order they were cut; after
// an error it still receives the rest so that no worker is left blocked.
func (bw *blockWriter) drain() {
	defer close(bw.done)
	for c := range bw.pending {
		r := <-c
		if bw.err == nil {
			bw.err = r.err
		}
		if bw.err == nil {
			_, bw.err = bw.w.Write(r.b)
		}
		if bw.err != nil {
			bw.failed.Store(true)
		}
	}
}

func (bw *blockWriter) Write(p []byte) (int, error) {
	if bw.closed {
		return 0, errors.New("write to a closed block writer")
	}
	if bw.failed.Load() {
		return 0, errors.New("an earlier block could not be written")
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(bw.buf[len(bw.buf):blockSize], p)
		bw.buf, p = bw.buf[:len(bw.buf)+k], p[k:]
		if len(bw.buf) == blockSize {
			bw.cut()
		}
	}
	return n, nil
}

// cut hands the block gathered so far to a worker of its own; the pending queue's
// capacity bounds how many are compressed at once.
func (bw *blockWriter) cut() {
	block := bw.buf
	bw.buf = make([]byte, 0, blockSize)
	c := make(chan compressed, 1)
	bw.pending <- c
	go func() {
		b, err := bw.compress(block)
		c <- compressed{b, err}
	}()
}

// Close writes the last block and waits for every block to be written.
func (bw *blockWriter) Close() error {
	if bw.closed {
		return bw.err
	}
	bw.closed = true
	if len(bw.buf) > 0 {
		bw.cut()
	}
	close(bw.pending)
	<-bw.done
	return bw.err
}

func (bw *blockWriter) compress(block []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(block)/2 + blockHeader + blockTrailer)
	out.Write(blockHeaderFor(0))
	fw, _ := bw.writers.Get().(*flate.Writer)
	if fw == nil {
		var err error
		if fw, err = flate.NewWriter(&out, bw.level); err != nil {
			return nil, err
		}
	} else {
		fw.Reset(&out)
	}
	defer bw.writers.Put(fw)
	if _, err := fw.Write(block); err != nil {
		return nil, err
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	var trailer [blockTrailer]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc32.ChecksumIEEE(block))
	binary.LittleEndian.PutUint32(trailer[4:], uint32(len(block)))
	out.Write(trailer[:])
	b := out.Bytes()
	if len(b) > maxBlock {
		return nil, fmt.Errorf("block of %d bytes compressed to %d, more than %d", len(block), len(b), maxBlock)
	}
	binary.LittleEndian.PutUint32(b[16:20], uint32(len(b)))
	return b, nil
}

// openGzip returns the decompressed stream of a .tar.gz: blocks decompressed on every
// core when pack wrote it so, else one stream read a few chunks ahead. Close stops
// either and waits for its goroutines; r must stay open until then.
func openGzip(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(blockHeader)
	if _, ok := blockLength(head); ok {
		return newBlockReader(br), nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	return &streamReader{readAhead: newReadAhead(zr), zr: zr}, nil
}

// streamReader is a gzip stream of one member (or members without block lengths).
type streamReader struct {
	*readAhead
	zr *gzip.Reader
}

func (s *streamReader) Close() error {
	s.readAhead.Close()
	return s.zr.Close()
}

// blockReader decompresses the blocks of r on every core and gives them back in order.
type blockReader struct {
	queue chan chan inflated // one per block, in file order; closed after the last
	stop  chan struct{}
	wg    sync.WaitGroup // the reading goroutine and the workers
	once  sync.Once
	cur   *inflated // the block being read
	left  []byte    // what is left of it
	err   error
}

type inflated struct {
	b   []byte
	err error
}

// Buffers go from block to block: a package is read through some hundred of them.
var (
	inflatedPool = sync.Pool{New: func() any { b := make([]byte, blockSize); return &b }}
	memberPool   = sync.Pool{New: func() any { b := make([]byte, maxBlock); return &b }}
)

func newBlockReader(r io.Reader) *blockReader {
	workers := runtime.GOMAXPROCS(0)
	br := &blockReader{
		queue: make(chan chan inflated, 2*workers),
		stop:  make(chan struct{}),
	}
	jobs := make(chan blockJob)
	br.wg.Add(1 + workers)
	go br.read(r, jobs)
	for range workers {
		go br.inflate(jobs)
	}
	return br
}

type blockJob struct {
	member *[]byte // from memberPool: the worker puts it back
	offset int64
	out    chan inflated
}

// read cuts r into members from their headers and queues each for a worker.
func (br *blockReader) read(r io.Reader, jobs chan<- blockJob) {
	defer br.wg.Done()
	defer close(jobs)
	defer close(br.queue)
	var offset int64
	for {
		member, err := readBlock(r, offset)
		if err == io.EOF {
			return
		}
		out := make(chan inflated, 1)
		if err != nil {
			out <- inflated{err: err}
			select {
			case br.queue <- out:
			case <-br.stop:
			}
			return
		}
		select {
		case br.queue <- out:
		case <-br.stop:
			memberPool.Put(member)
			return
		}
		select {
		case jobs <- blockJob{member, offset, out}:
		case <-br.stop:
			memberPool.Put(member)
			return
		}
		offset += int64(len(*member))
	}
}

// readBlock reads the next member whole into a buffer of memberPool; io.EOF when the
// file ends between members.
func readBlock(r io.Reader, offset int64) (*[]byte, error) {
	var head [blockHeader]byte
	n, err := io.ReadFull(r, head[:])
	if n == 0 && err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("gzip block at byte %d: %w", offset, io.ErrUnexpectedEOF)
	}
	size, ok := blockLength(head[:])
	if !ok {
		return nil, fmt.Errorf("gzip member at byte %d is not a block of this package's format", offset)
	}
	if size < blockHeader+blockTrailer || size > maxBlock {
		return nil, fmt.Errorf("gzip block at byte %d: length %d out of range", offset, size)
	}
	bp := memberPool.Get().(*[]byte)
	member := (*bp)[:size]
	copy(member, head[:])
	if _, err := io.ReadFull(r, member[blockHeader:]); err != nil {
		memberPool.Put(bp)
		return nil, fmt.Errorf("gzip block at byte %d: %w", offset, io.ErrUnexpectedEOF)
	}
	*bp = member
	return bp, nil
}

// inflater is one worker's decompressor and its source, padded so that no other
// worker's lies on the same cache lines: the source's index changes with every byte
// read, and two workers' sources side by side in memory (as the allocator placed them in
// about one run of three) made each core invalidate the other's line with every byte,
// doubling check's CPU time.
type inflater struct {
	src bytes.Reader
	fr  io.ReadCloser
	_   [128]byte
}

func (br *blockReader) inflate(jobs <-chan blockJob) {
	defer br.wg.Done()
	w := new(inflater)
	for job := range jobs {
		b, err := inflateBlock(&w.fr, &w.src, *job.member)
		memberPool.Put(job.member)
		if err != nil {
			err = fmt.Errorf("gzip block at byte %d: %w", job.offset, err)
		}
		job.out <- inflated{b, err}
	}
}

// inflateBlock decompresses one member into a pooled buffer, checking that its deflate
// data ends where the member does and that the length and CRC-32 agree.
func inflateBlock(fr *io.ReadCloser, src *bytes.Reader, member []byte) ([]byte, error) {
	data := member[blockHeader : len(member)-blockTrailer]
	trailer := member[len(member)-blockTrailer:]
	src.Reset(data)
	if *fr == nil {
		*fr = flate.NewReader(src)
	} else if err := (*fr).(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	bp := inflatedPool.Get().(*[]byte)
	buf := (*bp)[:blockSize]
	n, err := io.ReadFull(*fr, buf)
	switch {
	case err == nil:
		// a full block: the deflate data must end here
		var one [1]byte
		if k, _ := (*fr).Read(one[:]); k > 0 {
			err = fmt.Errorf("more than %d bytes", blockSize)
		}
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		err = nil
	}
	if err == nil && src.Len() > 0 {
		err = errors.New("data after the compressed block")
	}
	if err == nil && (binary.LittleEndian.Uint32(trailer[4:]) != uint32(n) || binary.LittleEndian.Uint32(trailer[:4]) != crc32.ChecksumIEEE(buf[:n])) {
		err = errors.New("checksum or length does not match")
	}
	if err != nil {
		inflatedPool.Put(bp)
		return nil, err
	}
	return buf[:n], nil
}

func (br *blockReader) Read(p []byte) (int, error) {
	for len(br.left) == 0 {
		if br.err != nil {
			return 0, br.err
		}
		br.release()
		c, ok := <-br.queue
		if !ok {
			br.err = io.EOF
			return 0, io.EOF
		}
		r := <-c
		if r.err != nil {
			br.err = r.err
			return 0, r.err
		}
		br.cur, br.left = &r, r.b
	}
	n := copy(p, br.left)
	br.left = br.left[n:]
	return n, nil
}

// release gives the block just read back to the pool.
func (br *blockReader) release() {
	if br.cur != nil && br.cur.b != nil {
		b := br.cur.b[:cap(br.cur.b)]
		inflatedPool.Put(&b)
	}
	br.cur = nil
}

// Close stops reading and decompressing and returns once no goroutine touches r.
func (br *blockReader) Close() error {
	br.once.Do(func() { close(br.stop) })
	br.wg.Wait()
	br.release()
	return nil
}
