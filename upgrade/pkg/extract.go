package pkg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"omflow-upgrade/upgrade/outcome"
)

// PayloadDir is where Extract puts the payload, laid out relative to the installation
// root; BaseDir holds the base copies of config files (pack -base), laid out the same way.
func PayloadDir(dir string) string { return filepath.Join(dir, "payload") }
func BaseDir(dir string) string    { return filepath.Join(dir, "base") }

// ExtractTemp makes a new private folder (mode 0700) in parent and extracts the package
// into it; see Extract. On error the folder is removed. Give a parent on the
// installation's file system so that files can later be renamed into place.
func (p *Package) ExtractTemp(ctx context.Context, parent string) (string, error) {
	dir, err := os.MkdirTemp(parent, ".omflow-upgrade-extract-")
	if err != nil {
		return "", fmt.Errorf("extract package %q: %w", p.Path, err)
	}
	if err := p.Extract(ctx, dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// Extract writes the package's members into dir, which must exist and be empty, and
// nowhere else: manifest.json, its signature, PayloadDir(dir) and BaseDir(dir); for a
// legacy patch, the archive's members as they are (Legacy.Script is then the script's
// path below dir). Payload files get the manifest's permission bits, and everything is
// on disk (synced) when Extract returns. Every member is checked again as it is written (the file may have changed since Open);
// on error the content of dir is undefined and the caller removes it.
func (p *Package) Extract(ctx context.Context, dir string) (err error) {
	defer func() {
		if err != nil && ctx.Err() == nil {
			err = outcome.Unusable(fmt.Errorf("extract package %q: %w", p.Path, err))
		} else if err != nil {
			err = fmt.Errorf("extract package %q: %w", p.Path, err)
		}
	}()
	if ents, err := os.ReadDir(dir); err != nil {
		return err
	} else if len(ents) > 0 {
		return fmt.Errorf("folder %q is not empty", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	cursor := &folderCursor{root: root, made: map[string]bool{}}
	defer cursor.close()
	f, err := os.Open(p.Path)
	if err != nil {
		return err
	}
	defer f.Close()

	var (
		exp     expectation
		modes   = map[string]fs.FileMode{}
		members = map[string]member{}
		links   []*entry
		done    int64
		total   int64
	)
	if p.Manifest != nil {
		exp = expect(p.Manifest)
		for _, f := range p.Manifest.Files {
			modes[payloadPrefix+f.Path] = fs.FileMode(f.Mode)
		}
		total = p.Manifest.PayloadSize()
	}
	err = walkArchive(ctx, f, p.Format, p.opts.limits(), func(e *entry) error {
		if exp != nil {
			if err := exp.check(e); err != nil {
				return err
			}
		}
		members[e.name] = member{typ: e.typ}
		switch e.typ {
		case entryDir:
			return root.MkdirAll(e.name, 0o755)
		case entryLink:
			links = append(links, e) // last: no file may be written through a link
			return nil
		}
		mode := e.mode
		if m, ok := modes[e.name]; ok {
			mode = m
		} else if exp != nil {
			mode = 0o644
		}
		var body io.Reader = e.body
		var manifest bytes.Buffer
		if exp != nil && e.name == ManifestName {
			body = io.TeeReader(body, &manifest)
		}
		blob, err := writeMember(cursor, e.name, mode, body, e.buf)
		if err != nil {
			return err
		}
		if exp != nil && e.name == ManifestName && !bytes.Equal(manifest.Bytes(), p.manifestRaw) {
			return errors.New("the manifest changed since the package was opened")
		}
		if e.name != ManifestName && e.name != SignatureName {
			if exp != nil {
				if err := exp.checkMember(e.name, member{typ: entryFile, blob: blob}); err != nil {
					return err
				}
			}
			done += blob.Size
			if p.opts.Progress != nil {
				p.opts.Progress(done, total)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range links {
		if err := root.MkdirAll(path.Dir(e.name), 0o755); err != nil {
			return err
		}
		if err := root.Symlink(e.link, e.name); err != nil {
			return err
		}
	}
	if exp != nil {
		if _, ok := members[ManifestName]; !ok {
			return errors.New("the manifest is gone since the package was opened")
		}
		if err := exp.complete(members); err != nil {
			return err
		}
	}
	return syncTree(dir)
}

// folderCursor opens files in the folder of the last one opened without walking the
// path from the root again: a package lists its files folder by folder, and resolving
// every component of every path (as os.Root does, safely) costs more than the writing.
// Folders are made once.
type folderCursor struct {
	root *os.Root
	made map[string]bool
	dir  string
	sub  *os.Root
	fd   *os.File // sub itself, opened by create where it writes through descriptors
}

// memberFile is a file being extracted: an *os.File, or on Linux its bare descriptor.
type memberFile interface {
	io.Writer
	Chmod(fs.FileMode) error
	Close() error
}

func (c *folderCursor) open(name string) (memberFile, error) {
	dir := path.Dir(name)
	if dir != c.dir || c.sub == nil {
		c.close()
		if !c.made[dir] {
			if err := c.root.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			c.made[dir] = true
		}
		sub, err := c.root.OpenRoot(dir)
		if err != nil {
			return nil, err
		}
		c.dir, c.sub = dir, sub
	}
	return c.create(path.Base(name))
}

func (c *folderCursor) close() {
	if c.fd != nil {
		c.fd.Close()
		c.fd = nil
	}
	if c.sub != nil {
		c.sub.Close()
		c.sub = nil
	}
}

// writeMember writes a new file below the cursor's root, hashing what it writes.
func writeMember(c *folderCursor, name string, mode fs.FileMode, body io.Reader, buf []byte) (Blob, error) {
	f, err := c.open(name)
	if err != nil {
		return Blob{}, err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), body, buf)
	if err == nil {
		err = f.Chmod(mode.Perm())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return Blob{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
}
