package pkg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"omflow-upgrade/upgrade/outcome"
)

// ConfigCopies are the package's own copy of each config file and, where pack -base
// stored one, the previous release's copy (the merge base), by root-relative path.
type ConfigCopies struct {
	New  map[string][]byte
	Base map[string][]byte
}

func newConfigCopies() *ConfigCopies {
	return &ConfigCopies{New: map[string][]byte{}, Base: map[string][]byte{}}
}

// add files a config member's content under its root-relative path.
func (c *ConfigCopies) add(member string, b []byte) {
	if rel, ok := strings.CutPrefix(member, payloadPrefix); ok {
		c.New[rel] = b
	} else if rel, ok := strings.CutPrefix(member, basePrefix); ok {
		c.Base[rel] = b
	}
}

// configMembers are the archive members holding config files (their base copies too),
// with what the manifest says they are.
func configMembers(m *Manifest) map[string]Blob {
	want := map[string]Blob{}
	for _, f := range m.Files {
		if f.Kind != KindConfig || f.Link != "" {
			continue
		}
		want[payloadPrefix+f.Path] = Blob{Size: f.Size, SHA256: f.SHA256}
		if f.Base != nil {
			want[basePrefix+f.Path] = *f.Base
		}
	}
	return want
}

// keptConfigs are the config members Open keeps as it reads them, so that ReadConfigs
// need not read the package again; nil when one is larger than ReadConfigs takes (it
// then refuses it, reading the package itself).
func keptConfigs(m *Manifest) map[string]Blob {
	want := configMembers(m)
	for _, b := range want {
		if b.Size > maxConfig {
			return nil
		}
	}
	return want
}

// maxConfig bounds a config file read into memory.
const maxConfig = 16 << 20

// ReadConfigs reads the config files of an opened package (and their base copies) into
// memory, each checked against the manifest, writing nothing: the read-only check needs
// them to say what a merge would do.
func (p *Package) ReadConfigs(ctx context.Context) (*ConfigCopies, error) {
	if p.configs != nil { // Open read them on its way through the whole package
		return p.configs, nil
	}
	out := newConfigCopies()
	if p.Manifest == nil {
		return out, nil
	}
	want := configMembers(p.Manifest)
	if len(want) == 0 {
		return out, nil
	}
	f, err := os.Open(p.Path)
	if err != nil {
		return nil, outcome.Unusable(fmt.Errorf("read package %q: %w", p.Path, err))
	}
	defer f.Close()
	err = walkArchive(ctx, f, p.Format, p.opts.limits(), func(e *entry) error {
		blob, ok := want[e.name]
		if !ok || e.typ != entryFile {
			return nil
		}
		if blob.Size > maxConfig {
			return fmt.Errorf("config file %q is larger than %d bytes", e.name, maxConfig)
		}
		var buf bytes.Buffer
		h := sha256.New()
		if _, err := e.copyTo(io.MultiWriter(&buf, h)); err != nil {
			return err
		}
		if int64(buf.Len()) != blob.Size || hex.EncodeToString(h.Sum(nil)) != blob.SHA256 {
			return fmt.Errorf("member %q does not match the manifest", e.name)
		}
		out.add(e.name, buf.Bytes())
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read package %q: %w", p.Path, err)
		}
		return nil, outcome.Unusable(fmt.Errorf("read package %q: %w", p.Path, err))
	}
	return out, nil
}
