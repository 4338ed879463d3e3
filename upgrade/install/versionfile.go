package install

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/txn"
	"omflow-upgrade/upgrade/version"
)

// ParseVersionFile reads version.bin's two lines, version=1.1.6.3 and
// version_num=001001006003. The version line wins; version_num alone is enough.
func ParseVersionFile(b []byte) (version.Version, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var ver, num string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "version":
			ver = strings.TrimSpace(v)
		case "version_num":
			num = strings.TrimSpace(v)
		}
	}
	if ver != "" {
		return version.Parse(ver)
	}
	if num != "" {
		return parseNum(num)
	}
	return version.Version{}, fmt.Errorf("no version= line")
}

func parseNum(num string) (version.Version, error) {
	if len(num) != 12 || strings.Trim(num, "0123456789") != "" {
		return version.Version{}, fmt.Errorf("version_num %q is not twelve digits", num)
	}
	parts := make([]string, 4)
	for i := range parts {
		parts[i] = strings.TrimLeft(num[3*i:3*i+3], "0")
		if parts[i] == "" {
			parts[i] = "0"
		}
	}
	return version.Parse(strings.Join(parts, "."))
}

// ReadVersionFile reads the version an installation records.
func ReadVersionFile(path string) (version.Version, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return version.Version{}, outcome.Unusable(fmt.Errorf("read version file %q: %w", path, err))
	}
	v, err := ParseVersionFile(b)
	if err != nil {
		return version.Version{}, outcome.Unusable(fmt.Errorf("version file %q: %w", path, err))
	}
	return v, nil
}

// FormatVersionFile is version.bin's content for v, with CRLF line ends when crlf is set
// (as the Windows releases write it).
func FormatVersionFile(v version.Version, crlf bool) []byte {
	nl := "\n"
	if crlf {
		nl = "\r\n"
	}
	return []byte("version=" + v.String() + nl + "version_num=" + v.Num() + nl)
}

// VersionFileContent is what the update writes into an existing version.bin: the new
// version in the file's own line-end style.
func VersionFileContent(path string, v version.Version) []byte {
	old, _ := os.ReadFile(path)
	return FormatVersionFile(v, bytes.Contains(old, []byte("\r\n")))
}

// ReadVersion reads the installed version from the version file again.
func (in *Installation) ReadVersion() error {
	v, err := ReadVersionFile(in.VersionFile())
	if err != nil {
		return err
	}
	in.Version = v
	return nil
}

// WriteVersion writes the version file for v in the file's own line-end style.
func (in *Installation) WriteVersion(v string) error {
	ver, err := version.Parse(v)
	if err != nil {
		return err
	}
	p := in.VersionFile()
	return WriteFileAtomic(p, VersionFileContent(p, ver), 0o644)
}

// RestoreVersionFile puts the version file's old bytes back when they differ (nil: no
// old file was recorded).
func (in *Installation) RestoreVersionFile(old []byte) error {
	if old == nil {
		return nil
	}
	p := in.VersionFile()
	if cur, err := os.ReadFile(p); err == nil && string(cur) == string(old) {
		return nil
	}
	return WriteFileAtomic(p, old, 0o644)
}

// CopyFile copies src to dst and returns src's state as copied. dst gets perm, or src's
// permissions when perm is 0. An existing dst is rewritten in place, not replaced: it
// keeps its owner, group and label.
func CopyFile(src, dst string, perm fs.FileMode) (fs.FileInfo, error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	if perm == 0 {
		perm = st.Mode().Perm()
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	return st, os.Chmod(dst, perm)
}

// WriteFileAtomic writes b to path through a temporary file in the same folder and a
// rename, so that a reader sees the old or the new content, never a mix.
func WriteFileAtomic(path string, b []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, perm)
	}
	if err == nil {
		// The file it replaces keeps its owner, group, mode and label (an OMFLOW run by
		// www-data must still read its version file).
		err = txn.KeepAttrs(tmp, path)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}
