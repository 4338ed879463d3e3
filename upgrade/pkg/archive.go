package pkg

import (
	"archive/tar"
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// ArchiveFormat is the container of a package.
type ArchiveFormat string

const (
	TarGz ArchiveFormat = "tar.gz"
	Zip   ArchiveFormat = "zip"
)

type entryType int

const (
	entryFile entryType = iota
	entryDir
	entryLink
)

// entry is one archive member, already checked for a safe name and an allowed type.
type entry struct {
	name string // clean, relative, slash-separated
	typ  entryType
	size int64       // declared content size (files)
	mode fs.FileMode // permission bits
	link string      // target (links)
	body io.Reader   // content (files), at most size bytes
	buf  []byte      // the walk's copy buffer, for copyTo
}

// copyTo copies the member's content to w through the walk's one buffer: io.Copy would
// take a new one for every member of a package of thousands.
func (e *entry) copyTo(w io.Writer) (int64, error) {
	return io.CopyBuffer(w, e.body, e.buf)
}

// sniff tells the archive format from the first bytes, whatever the file is called.
func sniff(f *os.File) (ArchiveFormat, error) {
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return TarGz, nil
	case n == 4 && string(magic[:]) == "PK\x03\x04", n == 4 && string(magic[:]) == "PK\x05\x06":
		return Zip, nil
	}
	return "", errors.New("neither a .tar.gz nor a .zip archive")
}

// walkArchive calls fn for each member of the archive in f, in archive order, after
// refusing unsafe names, duplicate names (also those that differ only in case), member
// types other than file, folder and relative symbolic link, and more members or more
// declared bytes than limits allow. fn must consume e.body before returning.
func walkArchive(ctx context.Context, f *os.File, format ArchiveFormat, lim Limits, fn func(e *entry) error) error {
	seen := map[string]string{}
	buf := make([]byte, 64<<10)
	var count int
	var total int64
	visit := func(e *entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		count++
		if count > lim.MaxEntries {
			return fmt.Errorf("more than %d archive members", lim.MaxEntries)
		}
		k := strings.ToLower(e.name)
		if prev, ok := seen[k]; ok {
			return fmt.Errorf("member %q: duplicate name (already %q)", e.name, prev)
		}
		seen[k] = e.name
		e.buf = buf
		if e.typ == entryFile {
			if e.size < 0 || e.size > lim.MaxBytes-total {
				return fmt.Errorf("member %q: declared size %d takes the archive over the limit of %d bytes", e.name, e.size, lim.MaxBytes)
			}
			total += e.size
			e.body = &exactReader{r: e.body, left: e.size, name: e.name}
		}
		if e.typ == entryLink {
			if err := checkLink(e.name, e.link); err != nil {
				return fmt.Errorf("member %q: %w", e.name, err)
			}
		}
		if err := fn(e); err != nil {
			return err
		}
		if e.typ == entryFile {
			// what fn left unread still has to match its declared size
			if _, err := io.Copy(io.Discard, e.body); err != nil {
				return err
			}
		}
		return nil
	}
	switch format {
	case TarGz:
		return walkTar(f, visit)
	case Zip:
		return walkZip(f, lim, visit)
	}
	return fmt.Errorf("archive format %q", format)
}

func walkTar(f *os.File, visit func(*entry) error) error {
	zr, err := openGzip(f)
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return fmt.Errorf("tar: %w", err)
		}
		name, err := memberName(h.Name, h.Typeflag == tar.TypeDir)
		if err != nil {
			return err
		}
		e := &entry{name: name, mode: fs.FileMode(h.Mode).Perm(), size: h.Size}
		switch h.Typeflag {
		case tar.TypeReg: // the reader reports old-style TypeRegA members as TypeReg
			e.typ, e.body = entryFile, tr
		case tar.TypeDir:
			e.typ = entryDir
		case tar.TypeSymlink:
			e.typ, e.link = entryLink, h.Linkname
		case tar.TypeXGlobalHeader:
			continue
		default:
			return fmt.Errorf("member %q: %s not allowed (only files, folders and relative symbolic links)", name, tarType(h.Typeflag))
		}
		if err := visit(e); err != nil {
			return err
		}
	}
}

func tarType(t byte) string {
	switch t {
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "named pipe"
	}
	return fmt.Sprintf("member type %q", t)
}

func walkZip(f *os.File, lim Limits, visit func(*entry) error) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("zip: %w", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return fmt.Errorf("more than %d archive members", lim.MaxEntries)
	}
	for _, zf := range zr.File {
		mode := zf.Mode()
		name, err := memberName(zf.Name, mode.IsDir())
		if err != nil {
			return err
		}
		e := &entry{name: name, mode: mode.Perm()}
		if e.mode == 0 && !mode.IsDir() { // archives made on Windows carry no Unix modes
			e.mode = 0o644
		}
		var body io.ReadCloser
		switch {
		case mode.IsDir():
			e.typ = entryDir
		case mode&fs.ModeSymlink != 0:
			if zf.UncompressedSize64 > 4096 {
				return fmt.Errorf("member %q: link target of %d bytes", name, zf.UncompressedSize64)
			}
			r, err := zf.Open()
			if err != nil {
				return fmt.Errorf("zip member %q: %w", name, err)
			}
			target, err := io.ReadAll(io.LimitReader(r, 4096))
			r.Close()
			if err != nil {
				return fmt.Errorf("zip member %q: %w", name, err)
			}
			e.typ, e.link = entryLink, string(target)
		case mode.IsRegular():
			if zf.UncompressedSize64 > uint64(lim.MaxBytes) {
				return fmt.Errorf("member %q: declared size %d is over the limit of %d bytes", name, zf.UncompressedSize64, lim.MaxBytes)
			}
			if body, err = zf.Open(); err != nil {
				return fmt.Errorf("zip member %q: %w", name, err)
			}
			e.typ, e.size, e.body = entryFile, int64(zf.UncompressedSize64), body
		default:
			return fmt.Errorf("member %q: %s not allowed (only files, folders and relative symbolic links)", name, mode.Type())
		}
		err = visit(e)
		if body != nil {
			body.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// memberName checks an archive member's name and returns it clean, without "./" in front
// and "/" behind.
func memberName(raw string, dir bool) (string, error) {
	name := raw
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	if dir {
		name = strings.TrimSuffix(name, "/")
	}
	if err := CheckPath(name); err != nil {
		return "", fmt.Errorf("member %q: %w", raw, err)
	}
	return name, nil
}

// exactReader yields exactly left bytes and fails when the member is shorter or longer
// than declared.
type exactReader struct {
	r    io.Reader
	left int64
	name string
}

func (x *exactReader) Read(p []byte) (int, error) {
	if x.left == 0 {
		var one [1]byte
		n, err := x.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("member %q: longer than declared", x.name)
		}
		if err != nil && err != io.EOF {
			return 0, fmt.Errorf("member %q: %w", x.name, err)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > x.left {
		p = p[:x.left]
	}
	n, err := x.r.Read(p)
	x.left -= int64(n)
	if err == io.EOF && x.left > 0 {
		return n, fmt.Errorf("member %q: shorter than declared: %w", x.name, io.ErrUnexpectedEOF)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// readSmall reads a member that must fit in memory.
func readSmall(e *entry, max int64) ([]byte, error) {
	if e.typ != entryFile {
		return nil, fmt.Errorf("member %q: not a regular file", e.name)
	}
	if e.size > max {
		return nil, fmt.Errorf("member %q: %d bytes, at most %d allowed", e.name, e.size, max)
	}
	b := make([]byte, e.size) // never nil: an empty member is still there
	_, err := io.ReadFull(e.body, b)
	return b, err
}
