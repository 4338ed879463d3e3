package upgrade

import (
	"context"
	"sync"

	"omflow-upgrade/upgrade/install"
)

// Session is one installation opened for the operations of a run (a command, or one
// wizard session): it is detected once, by Open, and its version is read again from the
// version file after each operation that may change it.
type Session struct {
	opt Options
	cur *current // shared by the copies With makes
}

// current is the installation as the last operation left it.
type current struct {
	mu sync.Mutex
	in *install.Installation
}

// Open finds the installation named by the options. The error is an unusable-input
// error when there is none there.
func Open(ctx context.Context, opt Options) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in, err := install.Detect(opt.Root, opt.Override)
	if err != nil {
		return nil, err
	}
	return &Session{opt: opt, cur: &current{in: in}}, nil
}

// With is the session with options changed by change (another log, a progress, the
// rollback's data choice): the copy and s share the installation.
func (s *Session) With(change func(*Options)) *Session {
	c := *s
	change(&c.opt)
	return &c
}

// Options are the session's options.
func (s *Session) Options() Options { return s.opt }

// Installation is the installation as the last operation left it. It is never changed
// in place: the caller may keep it.
func (s *Session) Installation() *install.Installation {
	s.cur.mu.Lock()
	defer s.cur.mu.Unlock()
	return s.cur.in
}

// follow has the progress hear the lines of the run's log until stop.
func (s *Session) follow() (stop func()) {
	if s.opt.Progress == nil {
		return func() {}
	}
	return s.opt.Log.Follow(s.opt.Progress.Line)
}

// begin is a private copy of the installation for one operation, named in its log.
func (s *Session) begin() *install.Installation {
	in := *s.Installation()
	s.opt.logf("installation %s: OMFLOW %s (%s layout)", in.Root, in.Version, in.Layout)
	return &in
}

// settle reads the version an operation left from the version file.
func (s *Session) settle(in *install.Installation) {
	next := *in
	if err := next.ReadVersion(); err != nil {
		s.opt.logf("read the version file again: %v", err)
		return
	}
	s.cur.mu.Lock()
	s.cur.in = &next
	s.cur.mu.Unlock()
}
