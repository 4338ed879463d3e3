package svc

// The Windows service control manager (SCM) side of the boundary. The logic here (finding
// OMFLOW's services, the order to stop and start them, polling until they get there, the
// autostart fence) is plain Go over the small SCM interface, so it runs in tests on Linux
// with a fake; scm_windows.go holds the real SCM behind that interface.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"omflow-upgrade/upgrade/outcome"
)

// SCMState is a service's state as the SCM reports it (the values of SERVICE_STATUS's
// dwCurrentState).
type SCMState uint32

const (
	StateStopped         SCMState = 1
	StateStartPending    SCMState = 2
	StateStopPending     SCMState = 3
	StateRunning         SCMState = 4
	StateContinuePending SCMState = 5
	StatePausePending    SCMState = 6
	StatePaused          SCMState = 7
)

var stateNames = map[SCMState]string{
	StateStopped: "STOPPED", StateStartPending: "START_PENDING", StateStopPending: "STOP_PENDING",
	StateRunning: "RUNNING", StateContinuePending: "CONTINUE_PENDING", StatePausePending: "PAUSE_PENDING",
	StatePaused: "PAUSED",
}

func (s SCMState) String() string { return enumName(stateNames, s, "state") }

// StartType is a service's start type (the registry's Start value).
type StartType uint32

const (
	StartBoot      StartType = 0
	StartSystem    StartType = 1
	StartAutomatic StartType = 2
	StartManual    StartType = 3
	StartDisabled  StartType = 4
)

var startTypeNames = map[StartType]string{
	StartBoot: "boot", StartSystem: "system", StartAutomatic: "automatic", StartManual: "manual",
	StartDisabled: "disabled",
}

func (t StartType) String() string { return enumName(startTypeNames, t, "start type") }

func enumName[T ~uint32](names map[T]string, v T, kind string) string {
	if n, ok := names[v]; ok {
		return n
	}
	return fmt.Sprintf("%s %d", kind, uint32(v))
}

// ServiceStatus is what the SCM says of a running or stopped service.
type ServiceStatus struct {
	State SCMState
	PID   uint32
	// Win32ExitCode and ServiceSpecificExitCode say why a service stopped
	// (ServiceSpecificExitCode counts when Win32ExitCode is ERROR_SERVICE_SPECIFIC_ERROR, 1066).
	Win32ExitCode           uint32
	ServiceSpecificExitCode uint32
}

// ServiceConfig is what the registry key of a service
// (HKLM\SYSTEM\CurrentControlSet\Services\<name>) holds.
type ServiceConfig struct {
	DisplayName string
	// ImagePath is the command line of the service program, environment variables
	// expanded: a path, quoted or not, maybe followed by arguments.
	ImagePath string
	StartType StartType
	// DependOn names the services this one needs running (DependOnService).
	DependOn []string
}

// Errors an SCM returns, wrapped around the system's own error, so that the logic can
// tell them apart on every platform.
var (
	ErrNoService         = errors.New("the service does not exist")
	ErrServiceDisabled   = errors.New("the service is disabled")
	ErrAccessDenied      = errors.New("access denied")
	ErrCannotAcceptCtrl  = errors.New("the service cannot accept the control now")
	ErrServiceNotActive  = errors.New("the service is not running")
	ErrAlreadyRunning    = errors.New("the service is already running")
	ErrSCMNotAvailable   = errors.New("no Windows service control manager on this system")
	ErrServiceNotStarted = errors.New("the service stopped while starting")
	// ErrStartTimeout is StartService's ERROR_SERVICE_REQUEST_TIMEOUT: the service's
	// process did not answer the start in time (it may have ended at once: Wine says so
	// for a service that gives up while starting). Its status tells what became of it.
	ErrStartTimeout = errors.New("the service did not answer the start request in time")
)

// SCM is the part of the Windows service control manager the upgrade uses. Each call
// asks for the least access it needs: listing needs SC_MANAGER_ENUMERATE_SERVICE; Query
// SERVICE_QUERY_STATUS; Start SERVICE_START; Stop SERVICE_STOP; SetStartType
// SERVICE_CHANGE_CONFIG (only the autostart fence calls it). Config reads the registry,
// because Service.Config (QueryServiceConfig2) fails under Wine.
type SCM interface {
	Services() ([]string, error)
	Config(name string) (ServiceConfig, error)
	Query(name string) (ServiceStatus, error)
	Start(name string) error
	// Stop sends SERVICE_CONTROL_STOP. It returns at once; the service gets to STOPPED
	// in its own time.
	Stop(name string) error
	SetStartType(name string, t StartType) error
}

// longPather is an SCM that can expand 8.3 short names (C:\PROGRA~1) of existing files.
type longPather interface {
	LongPath(path string) (string, error)
}

// SCMOptions says which services are OMFLOW's and how to wait for them.
type SCMOptions struct {
	// Root is the installation root (C:\Program Files\OMFLOW Server). When Names is
	// empty, OMFLOW's services are those whose program lives under Root.
	Root string
	// Names are the service names (not display names) from the configuration, in the
	// order to start them. They win over the search by program path.
	Names []string
	// Poll is the time between two status queries while waiting; 250 ms when zero.
	Poll time.Duration
	// Wait sleeps d or until ctx ends; tests give a fake clock here.
	Wait func(ctx context.Context, d time.Duration) error
	Logf func(format string, args ...any)
}

// SCMManager is the OMFLOW service on Windows: one or more SCM services started and
// stopped together. It is a Manager and a Fence.
type SCMManager struct {
	scm SCM
	opt SCMOptions
}

var (
	_ Manager = (*SCMManager)(nil)
	_ Fence   = (*SCMManager)(nil)
)

// NewSCMManager returns the OMFLOW service seen through scm.
func NewSCMManager(scm SCM, opt SCMOptions) *SCMManager {
	if opt.Poll <= 0 {
		opt.Poll = 250 * time.Millisecond
	}
	if opt.Wait == nil {
		opt.Wait = sleepCtx
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	return &SCMManager{scm: scm, opt: opt}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ServiceInfo is one of OMFLOW's services as found.
type ServiceInfo struct {
	Name   string
	Config ServiceConfig
	Status ServiceStatus
}

// Services finds OMFLOW's services, in the order to start them (a service after those it
// depends on; otherwise the one whose program is Apache24\bin\OMFLOWServer.exe first, then
// by name). Stop goes in the reverse order.
func (m *SCMManager) Services(ctx context.Context) ([]ServiceInfo, error) {
	names, cfgs, err := m.find(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceInfo, 0, len(names))
	for _, n := range names {
		st, err := m.scm.Query(n)
		if err != nil {
			return nil, m.wrap(n, "query the status of", err)
		}
		out = append(out, ServiceInfo{Name: n, Config: cfgs[n], Status: st})
	}
	return out, nil
}

// find returns the service names in start order and their configuration.
func (m *SCMManager) find(ctx context.Context) ([]string, map[string]ServiceConfig, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	cfgs := map[string]ServiceConfig{}
	var names []string
	if len(m.opt.Names) > 0 {
		for _, n := range m.opt.Names {
			c, err := m.scm.Config(n)
			if err != nil {
				return nil, nil, m.wrap(n, "read the configuration of", err)
			}
			names = append(names, n)
			cfgs[n] = c
		}
		// The configured order is the start order unless a dependency says otherwise.
		return startOrder(names, cfgs, false), cfgs, nil
	}
	all, err := m.scm.Services()
	if err != nil {
		return nil, nil, m.wrap("", "list the services of", err)
	}
	root := normalizeWinPath(m.opt.Root)
	if lp, ok := m.scm.(longPather); ok {
		if long, err := lp.LongPath(m.opt.Root); err == nil {
			root = normalizeWinPath(long)
		}
	}
	for _, n := range all {
		c, err := m.scm.Config(n)
		if err != nil {
			// A service that vanished or that we may not read is not ours to judge.
			m.opt.Logf("service %q: read its configuration: %v (skipped)", n, err)
			continue
		}
		prog := programPath(c.ImagePath)
		if lp, ok := m.scm.(longPather); ok && strings.Contains(prog, "~") {
			if long, err := lp.LongPath(prog); err == nil {
				prog = long
			}
		}
		if underRoot(normalizeWinPath(prog), root) {
			names = append(names, n)
			cfgs[n] = c
		}
	}
	if len(names) == 0 {
		// %s in quotes, not %q: a Windows path with doubled backslashes confuses people.
		return nil, nil, fmt.Errorf(`no OMFLOW service found whose program lives under "%s" (name the services in omflow-upgrade.json): %w`,
			m.opt.Root, ErrNoService)
	}
	return startOrder(names, cfgs, true), cfgs, nil
}

// startOrder sorts names so that each service comes after the ones it depends on. Without
// a dependency, byMain puts the service running Apache24\bin\OMFLOWServer.exe (OMFLOW's
// server itself) first and the rest by name; otherwise the given order stays.
func startOrder(names []string, cfgs map[string]ServiceConfig, byMain bool) []string {
	base := slices.Clone(names)
	if byMain {
		slices.SortStableFunc(base, func(a, b string) int {
			am, bm := isMainProgram(cfgs[a].ImagePath), isMainProgram(cfgs[b].ImagePath)
			switch {
			case am && !bm:
				return -1
			case bm && !am:
				return 1
			}
			return strings.Compare(strings.ToLower(a), strings.ToLower(b))
		})
	}
	var out []string
	done := map[string]bool{}
	visiting := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		key := strings.ToLower(n)
		if done[key] || visiting[key] {
			return // a dependency cycle is the SCM's to refuse; keep our order
		}
		visiting[key] = true
		for _, d := range cfgs[n].DependOn {
			for _, o := range base {
				if strings.EqualFold(o, d) {
					visit(o)
				}
			}
		}
		visiting[key] = false
		done[key] = true
		out = append(out, n)
	}
	for _, n := range base {
		visit(n)
	}
	return out
}

func isMainProgram(imagePath string) bool {
	return strings.HasSuffix(normalizeWinPath(programPath(imagePath)), `\apache24\bin\omflowserver.exe`)
}

// programPath takes the program out of a service command line: quotes and arguments
// stripped, the NT prefix \??\ dropped. An unquoted path with spaces ends at the first
// ".exe" followed by a space, as the SCM reads it.
func programPath(imagePath string) string {
	s := strings.TrimSpace(imagePath)
	if strings.HasPrefix(s, `"`) {
		if end := strings.Index(s[1:], `"`); end >= 0 {
			s = s[1 : end+1]
		} else {
			s = s[1:]
		}
	} else if i := strings.Index(strings.ToLower(s), ".exe "); i >= 0 {
		s = s[:i+len(".exe")]
	}
	s = strings.TrimPrefix(s, `\??\`)
	return s
}

// normalizeWinPath makes a Windows path comparable: backslashes, lower case, no "." or
// ".." elements, no trailing separator.
func normalizeWinPath(p string) string {
	p = strings.ReplaceAll(strings.TrimSpace(p), "/", `\`)
	var parts []string
	for i, el := range strings.Split(p, `\`) {
		switch {
		case el == "." || (el == "" && i > 0):
			continue
		case el == "..":
			if len(parts) > 1 {
				parts = parts[:len(parts)-1]
			}
			continue
		}
		parts = append(parts, strings.ToLower(el))
	}
	return strings.Join(parts, `\`)
}

// underRoot reports whether the normalised path prog lies inside root, comparing 8.3
// short names (PROGRA~1) with the long names they may stand for when the system could not
// expand them.
func underRoot(prog, root string) bool {
	if root == "" {
		return false
	}
	pe, re := strings.Split(prog, `\`), strings.Split(root, `\`)
	if len(pe) <= len(re) {
		return false
	}
	for i := range re {
		if !sameElement(pe[i], re[i]) {
			return false
		}
	}
	return true
}

// sameElement compares two lower-case path elements of a program path and of the root;
// the program's may be an 8.3 short name ("progra~1") of the root's ("program files").
// This is a fallback for names the system could not expand (the file is gone): the ~N
// number is not checked. The root itself exists and is expanded by the system, so a short
// root element only matches the same spelling (a short "omflow~1" root must not take in
// "OMFLOW Server Backup").
func sameElement(prog, root string) bool {
	return prog == root || shortMatches(prog, root)
}

func shortMatches(short, long string) bool {
	i := strings.LastIndex(short, "~")
	if i < 1 || i == len(short)-1 {
		return false
	}
	stem, rest := short[:i], short[i+1:]
	ext := ""
	if j := strings.Index(rest, "."); j >= 0 {
		rest, ext = rest[:j], rest[j:]
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	squeezed := strings.Map(func(r rune) rune {
		if r == ' ' {
			return -1
		}
		return r
	}, long)
	longExt := ""
	if j := strings.LastIndex(squeezed, "."); j > 0 {
		longExt = squeezed[j:]
		squeezed = squeezed[:j]
	}
	if ext != "" && !strings.HasPrefix(longExt, ext) {
		return false
	}
	return strings.HasPrefix(squeezed, stem)
}

// wrap names the service and turns access denied into the refusal that tells the user
// to run as administrator.
func (m *SCMManager) wrap(name, what string, err error) error {
	target := "the service control manager"
	if name != "" {
		target = fmt.Sprintf("service %q", name)
	}
	werr := fmt.Errorf("%s %s: %w", what, target, err)
	switch {
	case errors.Is(err, ErrAccessDenied):
		return &outcome.RefusedError{Reason: outcome.ReasonNotElevated, Err: fmt.Errorf(
			"%w: run the update program as administrator", werr)}
	case errors.Is(err, ErrNoService):
		return fmt.Errorf("%w (is OMFLOW installed? are the service names in omflow-upgrade.json right?)", werr)
	}
	return werr
}

// Status is Running when every OMFLOW service runs, Stopped otherwise (a service half-way
// counts as not running).
func (m *SCMManager) Status(ctx context.Context) (State, error) {
	infos, err := m.Services(ctx)
	if err != nil {
		return "", err
	}
	for _, si := range infos {
		if si.Status.State != StateRunning {
			return Stopped, nil
		}
	}
	return Running, nil
}

// Start starts OMFLOW's services in order, each one polled until it runs.
func (m *SCMManager) Start(ctx context.Context) error {
	names, cfgs, err := m.find(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := m.startOne(ctx, n, cfgs[n]); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops OMFLOW's services in the reverse of the start order, each one polled until
// it has stopped.
func (m *SCMManager) Stop(ctx context.Context) error {
	names, _, err := m.find(ctx)
	if err != nil {
		return err
	}
	for _, n := range slices.Backward(names) {
		if err := m.stopOne(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// next is what a poll step wants after looking at a status.
type next int

const (
	waitPoll next = iota // wait one poll interval, then look again
	queryNow             // a request went out: look again at once
	settled              // the service is where it should be
)

// poll queries service name and hands each status to step until step says settled or
// fails, waiting between queries until ctx ends. verb names the operation in errors.
func (m *SCMManager) poll(ctx context.Context, name, verb string, step func(ServiceStatus) (next, error)) error {
	for {
		st, err := m.scm.Query(name)
		if err != nil {
			return m.wrap(name, "query the status of", err)
		}
		n, err := step(st)
		switch {
		case err != nil:
			return err
		case n == settled:
			return nil
		case n == queryNow:
			continue
		}
		if err := m.opt.Wait(ctx, m.opt.Poll); err != nil {
			return fmt.Errorf("%s service %q: still %s when the wait ended: %w", verb, name, st.State, err)
		}
	}
}

func (m *SCMManager) startOne(ctx context.Context, name string, cfg ServiceConfig) error {
	requested := false
	return m.poll(ctx, name, "start", func(st ServiceStatus) (next, error) {
		switch st.State {
		case StateRunning:
			m.opt.Logf("service %q is running (pid %d)", name, st.PID)
			return settled, nil
		case StateStopped:
			if requested {
				return 0, fmt.Errorf("start service %q: %w (%s)", name, ErrServiceNotStarted, exitText(st))
			}
			if cfg.StartType == StartDisabled {
				return 0, disabledError(name)
			}
			m.opt.Logf("starting service %q", name)
			err := m.scm.Start(name)
			switch {
			case errors.Is(err, ErrServiceDisabled):
				return 0, disabledError(name)
			case errors.Is(err, ErrStartTimeout):
				// Its status says whether it stopped (and with which exit code) or is
				// still starting: the poll goes on as after an accepted request.
				m.opt.Logf("service %q: %v", name, err)
			case err != nil && !errors.Is(err, ErrAlreadyRunning):
				return 0, m.wrap(name, "start", err)
			}
			requested = true
			return queryNow, nil // a quick service is RUNNING already
		case StatePaused:
			return 0, fmt.Errorf("start service %q: it is paused; continue or restart it in the Services console", name)
		}
		return waitPoll, nil // a pending state: let it settle
	})
}

func (m *SCMManager) stopOne(ctx context.Context, name string) error {
	requested := false
	return m.poll(ctx, name, "stop", func(st ServiceStatus) (next, error) {
		switch st.State {
		case StateStopped:
			m.opt.Logf("service %q is stopped", name)
			return settled, nil
		case StateRunning, StatePaused:
			if requested {
				break
			}
			m.opt.Logf("stopping service %q (pid %d)", name, st.PID)
			err := m.scm.Stop(name)
			switch {
			case err == nil, errors.Is(err, ErrServiceNotActive):
				requested = true
				return queryNow, nil
			case !errors.Is(err, ErrCannotAcceptCtrl):
				return 0, m.wrap(name, "stop", err)
			}
			// Busy (still starting, say): ask again at the next poll.
		case StateStartPending:
			// A service cannot take a stop while it starts; ask once it runs.
			requested = false
		}
		return waitPoll, nil
	})
}

func disabledError(name string) error {
	return fmt.Errorf("start service %q: %w: set its start type to Automatic in the Services console (or: sc config %q start= auto)",
		name, ErrServiceDisabled, name)
}

func exitText(st ServiceStatus) string {
	const serviceSpecific = 1066 // ERROR_SERVICE_SPECIFIC_ERROR
	switch {
	case st.Win32ExitCode == serviceSpecific:
		return fmt.Sprintf("service-specific exit code %d; see the service's log and the Windows event log", st.ServiceSpecificExitCode)
	case st.Win32ExitCode != 0:
		return fmt.Sprintf("exit code %d; see the Windows event log", st.Win32ExitCode)
	}
	return "no exit code; see the Windows event log"
}

// DisableAutostart sets each OMFLOW service that starts automatically to manual start,
// so that a reboot while the tree is mixed does not start OMFLOW; Start still works
// (Disabled would make it fail). restore puts the start types back. The previous start
// types are in StartTypes, for a journal that must restore them after a crash.
func (m *SCMManager) DisableAutostart(ctx context.Context) (func(context.Context) error, error) {
	prev, err := m.StartTypes(ctx)
	if err != nil {
		return nil, err
	}
	changed := map[string]StartType{}
	restore := func(ctx context.Context) error { return m.SetStartTypes(ctx, changed) }
	for _, n := range slices.Sorted(maps.Keys(prev)) {
		if prev[n] != StartAutomatic {
			continue
		}
		if err := m.scm.SetStartType(n, StartManual); err != nil {
			rerr := restore(ctx)
			return nil, errors.Join(m.wrap(n, "set manual start on", err), rerr)
		}
		m.opt.Logf("service %q: start type automatic -> manual while the installation changes", n)
		changed[n] = prev[n]
	}
	return restore, nil
}

// StartTypes returns the start type of each OMFLOW service.
func (m *SCMManager) StartTypes(ctx context.Context) (map[string]StartType, error) {
	names, cfgs, err := m.find(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]StartType, len(names))
	for _, n := range names {
		out[n] = cfgs[n].StartType
	}
	return out, nil
}

// SetStartTypes sets the start types given (service name -> start type), all of them even
// when one fails.
func (m *SCMManager) SetStartTypes(ctx context.Context, types map[string]StartType) error {
	var errs []error
	for _, n := range slices.Sorted(maps.Keys(types)) {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := m.scm.SetStartType(n, types[n]); err != nil {
			errs = append(errs, m.wrap(n, "restore the start type ("+types[n].String()+") of", err))
			continue
		}
		m.opt.Logf("service %q: start type back to %s", n, types[n])
	}
	return errors.Join(errs...)
}

// SystemSCM is this machine's service control manager, to close after use.
type SystemSCM interface {
	SCM
	Close() error
}

// OpenSCM connects to this machine's service control manager, asking only to connect
// and to list services. Where there is none (Linux) it returns ErrSCMNotAvailable.
func OpenSCM() (SystemSCM, error) { return openSCM() }

// OpenSCMManager connects to this machine's SCM and returns OMFLOW's service on it;
// close ends the connection. Where there is no SCM (Linux) it returns ErrSCMNotAvailable.
func OpenSCMManager(opt SCMOptions) (m *SCMManager, close func() error, err error) {
	scm, err := OpenSCM()
	if err != nil {
		return nil, nil, err
	}
	return NewSCMManager(scm, opt), scm.Close, nil
}
