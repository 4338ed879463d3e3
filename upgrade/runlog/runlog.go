// Package runlog writes the one log file every run keeps: preflight results, each file
// action, service output, errors. It goes under the installation's logs/ folder or, when
// that cannot be written, the system's temporary folder.
package runlog

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Log is an open run log. Its methods are safe from any goroutine; a nil *Log discards.
type Log struct {
	Path string

	mu     sync.Mutex
	f      *os.File
	follow func(line string)
}

// Open creates the log of one run of command. dir is the preferred folder (the
// installation's logs/); it is created when missing. When it cannot be used, the log goes
// to the system temporary folder.
//
// The service account may write in logs/: the folder is opened without following a
// link, and the file is always a new one (O_EXCL|O_NOFOLLOW), under another name when
// the expected one is taken, so that nothing planted there makes root write elsewhere.
func Open(dir, command string) *Log {
	name := fmt.Sprintf("omflow-upgrade-%s-%s-%d", command, clock().Format("20060102-150405"), os.Getpid())
	var tried []string
	for _, d := range []string{dir, os.TempDir()} {
		if d == "" {
			continue
		}
		f, err := create(d, name)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		l := &Log{Path: f.Name(), f: f}
		if len(tried) > 0 {
			l.Logf("log: could not use %s", strings.Join(tried, "; "))
		}
		l.Logf("omflow-upgrade %s (pid %d) in %s", command, os.Getpid(), d)
		return l
	}
	return &Log{}
}

// clock is the time a log's name holds (a test fixes it to plant a link at that name).
var clock = time.Now

// create makes a new log file name.log in dir, or name-RANDOM.log when that is taken.
func create(dir, name string) (*os.File, error) {
	d, err := openLogDir(dir)
	if err != nil {
		return nil, err
	}
	defer d.close()
	try := name
	for range 8 {
		f, err := d.create(try + ".log")
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
		try = name + "-" + rand.Text()[:8]
	}
	return nil, fmt.Errorf("log %q: every name tried is taken", filepath.Join(dir, name+".log"))
}

// Logf writes one time-stamped line.
func (l *Log) Logf(format string, args ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	if l.f == nil {
		l.mu.Unlock()
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	line := time.Now().Format("2006-01-02 15:04:05.000") + " " + msg
	fmt.Fprintln(l.f, line)
	follow := l.follow
	l.mu.Unlock()
	if follow != nil {
		follow(line)
	}
}

// Follow has line hear every line written to the log from now on, as the file has it,
// until stop is called (one follower at a time: stop puts the one before back).
func (l *Log) Follow(line func(string)) (stop func()) {
	if l == nil {
		return func() {}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	before := l.follow
	l.follow = line
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.follow = before
	}
}

// Writer returns a writer whose lines go into the log with prefix (for a child process's
// output).
func (l *Log) Writer(prefix string) io.Writer {
	return Lines(func(s string) { l.Logf("%s%s", prefix, s) })
}

// Close closes the file.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Lines is a writer that calls line with each line written to it, without its "\n" or
// "\r\n"; a last line without an end is left out. It is safe from any goroutine.
func Lines(line func(string)) io.Writer { return &lineWriter{line: line} }

type lineWriter struct {
	line func(string)
	mu   sync.Mutex
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// Prune keeps, in dir, the newest keep logs of each of the given commands (read-only
// ones: check, plan, status, whose logs pile up under monitoring) and removes the older
// ones. Logs of runs that changed something are never pruned. It returns how many it
// removed; a log it cannot remove stays.
func Prune(dir string, commands []string, keep int) int {
	d, err := openLogDir(dir)
	if err != nil {
		return 0
	}
	defer d.close()
	names, err := d.names()
	if err != nil {
		return 0
	}
	removed := 0
	for _, command := range commands {
		var logs []string
		for _, n := range names {
			if ok, _ := filepath.Match("omflow-upgrade-"+command+"-*.log", n); ok {
				logs = append(logs, n)
			}
		}
		if len(logs) <= keep {
			continue
		}
		// The names hold the start time (YYYYmmdd-HHMMSS), so name order is age order.
		sort.Strings(logs)
		for _, n := range logs[:len(logs)-keep] {
			// Only regular files, relative to the folder opened: a link is not followed.
			if d.removeFile(n) == nil {
				removed++
			}
		}
	}
	return removed
}
