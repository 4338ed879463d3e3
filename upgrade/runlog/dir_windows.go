package runlog

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// logDir is a log folder that is no reparse point (symbolic link, junction): the
// service account may write in logs/, so a planted link must not send root's writes
// elsewhere. Windows has no openat: the folder is checked when opened, and every file
// is created new (CREATE_NEW), which fails on any existing name, link or not. Replacing
// logs\ itself after the check needs the right to delete in the installation's root,
// which the service account does not have.
type logDir struct {
	path string
}

func openLogDir(path string) (*logDir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	if err := plainDir(path); err != nil {
		return nil, err
	}
	return &logDir{path: path}, nil
}

func plainDir(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() || fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return fmt.Errorf("log folder %q is a link or not a folder: not used", path)
	}
	return nil
}

func (d *logDir) close() {}

func (d *logDir) create(name string) (*os.File, error) {
	return os.OpenFile(filepath.Join(d.path, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
}

func (d *logDir) names() ([]string, error) {
	if err := plainDir(d.path); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// removeFile removes name when it is a regular file of the folder (a link is left).
func (d *logDir) removeFile(name string) error {
	p := filepath.Join(d.path, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%q is not a regular file", p)
	}
	return os.Remove(p)
}
