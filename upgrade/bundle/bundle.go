// Package bundle is the self-contained update program: one .exe that an administrator
// double-clicks, carrying its update package. The package is appended to the update
// program (the wizard's .exe) with a trailer at the end that says where it is; at start the
// program looks for it in its own file (FindSelf).
//
// Layout of a bundled program, in file order:
//
//	program      the .exe as built (PE; or any program on other systems)
//	package      the update package's bytes (.tar.gz or .zip), unchanged
//	name         the package's file name (UTF-8), for messages and its format
//	padding      zero bytes, so that the file's length is a multiple of 8
//	footer       64 bytes: magic "OMFLOWUP", format (uint32, 1), name length (uint32),
//	             package offset (uint64), package size (uint64), SHA-256 of the package;
//	             integers little-endian
//	certificate  Authenticode signature table, when the bundle is signed (last step)
//
// Sign after bundling: Authenticode's hash covers everything but the certificate table,
// so the signature covers the package too, and signtool or osslsigncode put the table at
// the end of the file, after the footer (a file whose length is a multiple of 8 needs
// no padding before it). Find reads the PE header to find where the table starts and
// looks for the footer just before it. The package keeps its own minisign signature,
// which the upgrade checks as for any package; the SHA-256 here only catches a truncated
// or damaged download early, with a clear message.
package bundle

import (
	"bytes"
	"crypto/sha256"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const (
	magic      = "OMFLOWUP"
	format     = 1
	footerSize = 64
	maxName    = 255
)

// ErrNotBundled says a program carries no package.
var ErrNotBundled = errors.New("no update package inside the program")

// Embedded is a package found inside a program.
type Embedded struct {
	Program string // the program's path
	Name    string // the package's file name
	Offset  int64  // where the package's bytes start in the program
	Size    int64
	SHA256  [32]byte
}

type footer struct {
	Magic   [8]byte
	Format  uint32
	NameLen uint32
	Offset  uint64
	Size    uint64
	SHA256  [32]byte
}

// FindSelf finds the package inside the running program.
func FindSelf() (*Embedded, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program's file: %w", err)
	}
	return Find(exe)
}

// Find finds the package inside the program at path; ErrNotBundled when it carries none.
// It reads the trailer only: Open and Extract check the package's bytes.
func Find(path string) (*Embedded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	end := contentEnd(f, st.Size())
	// A signing tool may pad to 8 bytes before its table: skip up to 7 zero bytes.
	buf := make([]byte, footerSize+7)
	start := max(end-int64(len(buf)), 0)
	n, err := f.ReadAt(buf[:end-start], start)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	buf = buf[:n]
	var ft footer
	found := false
	for skip := 0; skip <= 7 && len(buf)-skip >= footerSize; skip++ {
		tail := buf[len(buf)-skip-footerSize : len(buf)-skip]
		if bytes.HasPrefix(tail, []byte(magic)) && allZero(buf[len(buf)-skip:]) {
			binary.Read(bytes.NewReader(tail), binary.LittleEndian, &ft)
			end -= int64(skip)
			found = true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%q: %w", path, ErrNotBundled)
	}
	bad := func(why string) error { return fmt.Errorf("%q: damaged update package trailer: %s", path, why) }
	if ft.Format != format {
		return nil, bad(fmt.Sprintf("format %d is not known to this program", ft.Format))
	}
	footerAt := end - footerSize
	nameEnd := int64(ft.Offset) + int64(ft.Size) + int64(ft.NameLen)
	if ft.NameLen == 0 || ft.NameLen > maxName || ft.Offset > uint64(footerAt) || ft.Size > uint64(footerAt) ||
		nameEnd > footerAt || footerAt-nameEnd > 7 {
		return nil, bad("the package does not fit in the file (truncated download?)")
	}
	name := make([]byte, ft.NameLen)
	if _, err := f.ReadAt(name, int64(ft.Offset+ft.Size)); err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	if err := checkName(string(name)); err != nil {
		return nil, bad(err.Error())
	}
	return &Embedded{Program: path, Name: string(name), Offset: int64(ft.Offset), Size: int64(ft.Size), SHA256: ft.SHA256}, nil
}

// contentEnd is where the program's own content ends: the start of the Authenticode
// certificate table when the file is a signed PE whose table is at its end, else its size.
func contentEnd(r io.ReaderAt, size int64) int64 {
	f, err := pe.NewFile(r)
	if err != nil {
		return size
	}
	defer f.Close()
	var dirs []pe.DataDirectory
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		dirs = oh.DataDirectory[:oh.NumberOfRvaAndSizes]
	case *pe.OptionalHeader32:
		dirs = oh.DataDirectory[:oh.NumberOfRvaAndSizes]
	}
	if len(dirs) <= pe.IMAGE_DIRECTORY_ENTRY_SECURITY {
		return size
	}
	// The security entry's VirtualAddress is a file offset, not an RVA.
	sec := dirs[pe.IMAGE_DIRECTORY_ENTRY_SECURITY]
	if sec.Size == 0 || int64(sec.VirtualAddress)+int64(sec.Size) != size {
		return size
	}
	return int64(sec.VirtualAddress)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func checkName(name string) error {
	lower := strings.ToLower(name)
	if name != filepath.Base(name) || strings.ContainsAny(name, `/\:`) || name == "." || name == ".." {
		return fmt.Errorf("package name %q is not a plain file name", name)
	}
	if !strings.HasSuffix(lower, ".tar.gz") && !strings.HasSuffix(lower, ".tgz") && !strings.HasSuffix(lower, ".zip") {
		return fmt.Errorf("package name %q: want a .tar.gz or .zip", name)
	}
	return nil
}

// Reader reads the package's bytes from the program (not checked: see Extract).
func (e *Embedded) Reader() (io.ReadCloser, error) {
	f, err := os.Open(e.Program)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, e.Offset, e.Size), f}, nil
}

// Extract writes the package into dir under its own name, checking its SHA-256, and
// returns its path. dir should be a private folder (os.MkdirTemp): the package is then
// opened and verified as any other package.
func (e *Embedded) Extract(dir string) (string, error) {
	r, err := e.Reader()
	if err != nil {
		return "", err
	}
	defer r.Close()
	p := filepath.Join(dir, e.Name)
	out, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("extract the update package from %q: %w", e.Program, err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && !bytes.Equal(h.Sum(nil), e.SHA256[:]) {
		err = fmt.Errorf("the package's bytes do not match their SHA-256 (damaged download? get the update program again)")
	}
	if err != nil {
		os.Remove(p)
		return "", fmt.Errorf("extract the update package from %q: %w", e.Program, err)
	}
	return p, nil
}

// Append writes to out the program at exe with the package at pkgPath appended as Find
// reads it. The program must not be signed yet (signing comes after) nor carry a package.
func Append(exe, pkgPath, out string) error {
	name := filepath.Base(pkgPath)
	if err := checkName(name); err != nil {
		return err
	}
	if len(name) > maxName {
		return fmt.Errorf("package name %q is longer than %d bytes", name, maxName)
	}
	prog, err := os.ReadFile(exe)
	if err != nil {
		return err
	}
	if end := contentEnd(bytes.NewReader(prog), int64(len(prog))); end != int64(len(prog)) {
		return fmt.Errorf("%q is signed already: bundle the package first, then sign the result", exe)
	}
	if _, err := Find(exe); !errors.Is(err, ErrNotBundled) {
		return fmt.Errorf("%q carries an update package already (or a damaged one: %v); start from the program as built", exe, err)
	}
	pkgFile, err := os.Open(pkgPath)
	if err != nil {
		return err
	}
	defer pkgFile.Close()
	tmp := out + ".tmp"
	w, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	h := sha256.New()
	if _, err := w.Write(prog); err != nil {
		w.Close()
		return err
	}
	size, err := io.Copy(io.MultiWriter(w, h), pkgFile)
	if err != nil {
		w.Close()
		return fmt.Errorf("read %q: %w", pkgPath, err)
	}
	ft := footer{Format: format, NameLen: uint32(len(name)), Offset: uint64(len(prog)), Size: uint64(size)}
	copy(ft.Magic[:], magic)
	copy(ft.SHA256[:], h.Sum(nil))
	var tail bytes.Buffer
	tail.WriteString(name)
	total := int64(len(prog)) + size + int64(len(name)) + footerSize
	tail.Write(make([]byte, (8-total%8)%8))
	binary.Write(&tail, binary.LittleEndian, ft)
	if _, err := w.Write(tail.Bytes()); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
