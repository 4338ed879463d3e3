package svc

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"omflow-upgrade/upgrade/outcome"
)

// fakeService behaves like a service under the SCM: a start or stop request puts it in a
// pending state that settles after a number of status queries.
type fakeService struct {
	cfg          ServiceConfig
	status       ServiceStatus
	polls        int  // queries left before the pending state settles
	startPolls   int  // START_PENDING queries after a start request
	stopPolls    int  // STOP_PENDING queries after a stop request
	neverSettles bool // stays pending forever (a hung service)
	failExit     uint32
	denied       bool // every call on it: access denied
	// startDisabled: StartService answers ERROR_SERVICE_DISABLED although the start
	// type read earlier was not Disabled (changed in between).
	startDisabled bool
	// startTimesOut: StartService answers ERROR_SERVICE_REQUEST_TIMEOUT, the service
	// having ended with failExit before it answered (as Wine reports such a service).
	startTimesOut bool
}

type fakeSCM struct {
	mu      sync.Mutex
	svcs    map[string]*fakeService
	order   []string          // listing order
	long    map[string]string // short path -> long path, as GetLongPathName would
	calls   []string
	denyAll bool
	failSet string // SetStartType on this service fails
}

func newFakeSCM() *fakeSCM { return &fakeSCM{svcs: map[string]*fakeService{}} }

func (f *fakeSCM) add(name, image string, start StartType, state SCMState, deps ...string) *fakeService {
	s := &fakeService{
		cfg:        ServiceConfig{DisplayName: name, ImagePath: image, StartType: start, DependOn: deps},
		status:     ServiceStatus{State: state},
		startPolls: 2,
		stopPolls:  2,
	}
	if state == StateRunning {
		s.status.PID = 100 + uint32(len(f.svcs))
	}
	f.svcs[strings.ToLower(name)] = s
	f.order = append(f.order, name)
	return s
}

func (f *fakeSCM) get(name string) (*fakeService, error) {
	if f.denyAll {
		return nil, fmt.Errorf("OpenSCManager: %w", ErrAccessDenied)
	}
	s, ok := f.svcs[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("OpenService: %w", ErrNoService)
	}
	if s.denied {
		return nil, fmt.Errorf("OpenService: %w", ErrAccessDenied)
	}
	return s, nil
}

func (f *fakeSCM) Services() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.denyAll {
		return nil, fmt.Errorf("OpenSCManager: %w", ErrAccessDenied)
	}
	return slices.Clone(f.order), nil
}

func (f *fakeSCM) Config(name string) (ServiceConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(name)
	if err != nil {
		return ServiceConfig{}, err
	}
	return s.cfg, nil
}

func (f *fakeSCM) Query(name string) (ServiceStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(name)
	if err != nil {
		return ServiceStatus{}, err
	}
	st := s.status
	switch s.status.State {
	case StateStartPending, StateStopPending:
		if s.neverSettles {
			break
		}
		if s.polls--; s.polls <= 0 {
			if s.status.State == StateStopPending {
				s.status = ServiceStatus{State: StateStopped}
			} else if s.failExit != 0 {
				s.status = ServiceStatus{State: StateStopped, Win32ExitCode: 1066, ServiceSpecificExitCode: s.failExit}
			} else {
				s.status = ServiceStatus{State: StateRunning, PID: 4242}
			}
		}
	}
	return st, nil
}

func (f *fakeSCM) Start(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(name)
	if err != nil {
		return err
	}
	f.calls = append(f.calls, "start "+name)
	switch {
	case s.cfg.StartType == StartDisabled, s.startDisabled:
		return fmt.Errorf("StartService: %w", ErrServiceDisabled)
	case s.status.State != StateStopped:
		return fmt.Errorf("StartService: %w", ErrAlreadyRunning)
	}
	if s.startTimesOut {
		s.status = ServiceStatus{State: StateStopped, Win32ExitCode: 1066, ServiceSpecificExitCode: s.failExit}
		return fmt.Errorf("StartService: %w", ErrStartTimeout)
	}
	s.status = ServiceStatus{State: StateStartPending}
	s.polls = s.startPolls
	return nil
}

func (f *fakeSCM) Stop(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(name)
	if err != nil {
		return err
	}
	f.calls = append(f.calls, "stop "+name)
	switch s.status.State {
	case StateStopped:
		return fmt.Errorf("ControlService: %w", ErrServiceNotActive)
	case StateStartPending, StateStopPending:
		return fmt.Errorf("ControlService: %w", ErrCannotAcceptCtrl)
	}
	s.status.State = StateStopPending
	s.polls = s.stopPolls
	return nil
}

func (f *fakeSCM) SetStartType(name string, t StartType) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.get(name)
	if err != nil {
		return err
	}
	if strings.EqualFold(name, f.failSet) {
		return fmt.Errorf("ChangeServiceConfig: %w", ErrAccessDenied)
	}
	f.calls = append(f.calls, fmt.Sprintf("config %s %s", name, t))
	s.cfg.StartType = t
	return nil
}

func (f *fakeSCM) LongPath(p string) (string, error) {
	if l, ok := f.long[strings.ToLower(p)]; ok {
		return l, nil
	}
	return "", fmt.Errorf("GetLongPathName %q: not found", p)
}

func (f *fakeSCM) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fakeClock is the manager's Wait: no real sleeping; after limit waits it ends the
// context, as a deadline would.
type fakeClock struct {
	waits  int
	limit  int
	cancel context.CancelFunc
}

func (c *fakeClock) wait(ctx context.Context, _ time.Duration) error {
	c.waits++
	if c.limit > 0 && c.waits >= c.limit {
		c.cancel()
	}
	return ctx.Err()
}

const (
	root      = `C:\Program Files\OMFLOW Server`
	serverExe = `"C:\Program Files\OMFLOW Server\Apache24\bin\OMFLOWServer.exe" -k runservice`
	webExe    = `C:\PROGRA~1\OMFLOW~1\Python\pythonservice.exe -service`
	server    = "OMFLOWServer"
	web       = "OMFLOW Server Web"
)

// omflowSCM is a machine with OMFLOW's two services, some others, and traps for the
// search by program path.
func omflowSCM(state SCMState) *fakeSCM {
	f := newFakeSCM()
	f.add("Spooler", `C:\Windows\System32\spoolsv.exe`, StartAutomatic, StateRunning)
	f.add(web, webExe, StartAutomatic, state)
	f.add("OMFLOW Backup", `"C:\Program Files\OMFLOW Server Backup\bk.exe"`, StartAutomatic, StateRunning)
	f.add("Escaper", `"C:\Program Files\OMFLOW Server\..\Other\x.exe"`, StartManual, StateRunning)
	f.add(server, serverExe, StartAutomatic, state)
	f.add("NoImage", ``, StartManual, StateStopped)
	return f
}

func newTestManager(f *fakeSCM, opt SCMOptions) (*SCMManager, context.Context, *fakeClock) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := &fakeClock{limit: 100, cancel: cancel}
	if opt.Root == "" && opt.Names == nil {
		opt.Root = root
	}
	opt.Wait = clock.wait
	return NewSCMManager(f, opt), ctx, clock
}

func TestSCMFindsOMFLOWServices(t *testing.T) {
	tests := []struct {
		name string
		opt  SCMOptions
		long map[string]string
		want []string
	}{
		{"by program path, short names matched by shape", SCMOptions{Root: root}, nil, []string{server, web}},
		{"by program path, short names expanded by the system",
			SCMOptions{Root: root},
			map[string]string{strings.ToLower(`C:\PROGRA~1\OMFLOW~1\Python\pythonservice.exe`): `C:\Program Files\OMFLOW Server\Python\pythonservice.exe`},
			[]string{server, web}},
		{"root given in short form and other case, expanded by the system", SCMOptions{Root: `c:/progra~1/omflow~1/`},
			map[string]string{`c:/progra~1/omflow~1/`: root}, []string{server, web}},
		{"root in short form that the system cannot expand: same spelling only", SCMOptions{Root: `c:/progra~1/omflow~1/`},
			nil, []string{web}},
		{"configured names win", SCMOptions{Names: []string{"omflowserver"}}, nil, []string{"omflowserver"}},
		{"configured order kept", SCMOptions{Names: []string{web, server}}, nil, []string{web, server}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := omflowSCM(StateRunning)
			f.long = tc.long
			m, ctx, _ := newTestManager(f, tc.opt)
			infos, err := m.Services(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, si := range infos {
				got = append(got, si.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("services = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSCMNoServiceUnderRoot(t *testing.T) {
	f := omflowSCM(StateRunning)
	m, ctx, _ := newTestManager(f, SCMOptions{Root: `D:\OMFLOW`})
	_, err := m.Status(ctx)
	if !errors.Is(err, ErrNoService) || !strings.Contains(err.Error(), `"D:\OMFLOW"`) {
		t.Fatalf("err = %v, want ErrNoService naming the root", err)
	}
}

func TestProgramPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"C:\Program Files\OMFLOW Server\Apache24\bin\OMFLOWServer.exe" -k runservice`, `C:\Program Files\OMFLOW Server\Apache24\bin\OMFLOWServer.exe`},
		{`C:\Program Files\OMFLOW Server\Apache24\bin\OMFLOWServer.exe -k runservice`, `C:\Program Files\OMFLOW Server\Apache24\bin\OMFLOWServer.exe`},
		{`C:\PROGRA~1\OMFLOW~1\x.EXE`, `C:\PROGRA~1\OMFLOW~1\x.EXE`},
		{`\??\C:\Windows\system32\drivers\x.sys`, `C:\Windows\system32\drivers\x.sys`},
		{`"C:\unterminated\x.exe`, `C:\unterminated\x.exe`},
		{`  C:\a.exe  `, `C:\a.exe`},
	}
	for _, tc := range tests {
		if got := programPath(tc.in); got != tc.want {
			t.Errorf("programPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnderRoot(t *testing.T) {
	tests := []struct {
		prog, root string
		want       bool
	}{
		{`C:\Program Files\OMFLOW Server\Apache24\bin\OMFLOWServer.exe`, root, true},
		{`c:\program files\omflow server\x.exe`, `C:\PROGRAM FILES\OMFLOW SERVER\`, true},
		{`C:\PROGRA~1\OMFLOW~1\x.exe`, root, true},
		{`C:\Program Files\OMFLOW Server Backup\x.exe`, root, false},
		{`C:\Program Files\OMFLOW Server\..\Other\x.exe`, root, false},
		{`C:\Program Files\OMFLOW Server`, root, false},
		{`C:\PROGRA~1\OTHER~1\x.exe`, root, false},
		{`C:\PROGRA~X\OMFLOW~1\x.exe`, root, false},
		{`D:\Program Files\OMFLOW Server\x.exe`, root, false},
		{`C:\x.exe`, ``, false},
		{`C:\Program Files\OMFLOW Server Backup\x.exe`, `C:\PROGRA~1\OMFLOW~1`, false},
	}
	for _, tc := range tests {
		if got := underRoot(normalizeWinPath(tc.prog), normalizeWinPath(tc.root)); got != tc.want {
			t.Errorf("underRoot(%q, %q) = %v, want %v", tc.prog, tc.root, got, tc.want)
		}
	}
}

func TestSCMStopAndStartOrder(t *testing.T) {
	tests := []struct {
		name      string
		serverDep []string // DependOnService of OMFLOWServer
		wantStop  []string
		wantStart []string
	}{
		{"server first by default", nil, []string{"stop " + web, "stop " + server}, []string{"start " + server, "start " + web}},
		{"a declared dependency wins", []string{web}, []string{"stop " + server, "stop " + web}, []string{"start " + web, "start " + server}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := omflowSCM(StateRunning)
			f.svcs[strings.ToLower(server)].cfg.DependOn = tc.serverDep
			m, ctx, clock := newTestManager(f, SCMOptions{})
			if err := m.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if got := f.callLog(); !slices.Equal(got, tc.wantStop) {
				t.Fatalf("stop calls = %q, want %q", got, tc.wantStop)
			}
			if clock.waits == 0 {
				t.Fatal("Stop did not wait through STOP_PENDING")
			}
			if st, err := m.Status(ctx); err != nil || st != Stopped {
				t.Fatalf("Status after Stop = %v, %v", st, err)
			}
			f.calls = nil
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if got := f.callLog(); !slices.Equal(got, tc.wantStart) {
				t.Fatalf("start calls = %q, want %q", got, tc.wantStart)
			}
			if st, err := m.Status(ctx); err != nil || st != Running {
				t.Fatalf("Status after Start = %v, %v", st, err)
			}
		})
	}
}

func TestSCMErrors(t *testing.T) {
	tests := []struct {
		name   string
		op     string // "start" or "stop"
		opt    SCMOptions
		setup  func(f *fakeSCM)
		is     error          // errors.Is
		reason outcome.Reason // outcome reason, when a refusal
		msg    []string
		calls  []string // the SCM calls made, nil: not checked
	}{
		{name: "start never reaches RUNNING", op: "start",
			setup: func(f *fakeSCM) { f.svcs[strings.ToLower(server)].neverSettles = true },
			is:    context.Canceled, msg: []string{`"OMFLOWServer"`, "START_PENDING"}},
		{name: "stop never reaches STOPPED", op: "stop",
			setup: func(f *fakeSCM) { f.svcs[strings.ToLower(web)].neverSettles = true },
			is:    context.Canceled, msg: []string{`"OMFLOW Server Web"`, "STOP_PENDING"}},
		{name: "service stops while starting", op: "start",
			setup: func(f *fakeSCM) { f.svcs[strings.ToLower(server)].failExit = 3 },
			is:    ErrServiceNotStarted, msg: []string{`"OMFLOWServer"`, "service-specific exit code 3"},
			calls: []string{"start " + server}},
		{name: "service ends before it answers the start", op: "start",
			setup: func(f *fakeSCM) {
				f.svcs[strings.ToLower(server)].failExit = 3
				f.svcs[strings.ToLower(server)].startTimesOut = true
			},
			is: ErrServiceNotStarted, msg: []string{`"OMFLOWServer"`, "service-specific exit code 3"},
			calls: []string{"start " + server}},
		{name: "disabled service", op: "start",
			setup: func(f *fakeSCM) { f.svcs[strings.ToLower(server)].cfg.StartType = StartDisabled },
			is:    ErrServiceDisabled, msg: []string{`"OMFLOWServer"`, "sc config"}, calls: []string{}},
		{name: "disabled after lookup (StartService refuses)", op: "start",
			setup: func(f *fakeSCM) { f.svcs[strings.ToLower(server)].startDisabled = true },
			is:    ErrServiceDisabled, msg: []string{`"OMFLOWServer"`, "sc config"}, calls: []string{"start " + server}},
		{name: "access denied listing", op: "stop",
			setup: func(f *fakeSCM) { f.denyAll = true },
			is:    ErrAccessDenied, reason: "not-elevated", msg: []string{"administrator"}},
		{name: "access denied on the service", op: "stop",
			setup: func(f *fakeSCM) {
				f.svcs[strings.ToLower(server)].denied = true
			},
			opt: SCMOptions{Names: []string{server}},
			is:  ErrAccessDenied, reason: "not-elevated", msg: []string{`"OMFLOWServer"`, "administrator"}},
		{name: "configured service missing", op: "stop",
			opt: SCMOptions{Names: []string{server, "OMFLOW Typo"}},
			is:  ErrNoService, msg: []string{`"OMFLOW Typo"`, "omflow-upgrade.json"}, calls: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := StateRunning
			if tc.op == "start" {
				state = StateStopped
			}
			f := omflowSCM(state)
			if tc.setup != nil {
				tc.setup(f)
			}
			m, ctx, _ := newTestManager(f, tc.opt)
			var err error
			if tc.op == "start" {
				err = m.Start(ctx)
			} else {
				err = m.Stop(ctx)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
			var refused *outcome.RefusedError
			if got := errors.As(err, &refused); got != (tc.reason != "") || (got && refused.Reason != tc.reason) {
				t.Errorf("err = %#v, want refusal %q", err, tc.reason)
			}
			for _, s := range tc.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %q, want it to mention %q", err, s)
				}
			}
			if tc.calls != nil {
				if got := f.callLog(); !slices.Equal(got, tc.calls) && !(len(got) == 0 && len(tc.calls) == 0) {
					t.Errorf("calls = %q, want %q", got, tc.calls)
				}
			}
		})
	}
}

func TestSCMDeadlineAlreadyPassed(t *testing.T) {
	f := omflowSCM(StateRunning)
	f.svcs[strings.ToLower(web)].neverSettles = true
	m := NewSCMManager(f, SCMOptions{Root: root, Poll: time.Hour})
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	err := m.Stop(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestSCMPendingStatesSettleFirst(t *testing.T) {
	tests := []struct {
		name      string
		op        string
		state     SCMState
		wantCalls []string
	}{
		// A stop cannot be sent while the service starts: wait until it runs, then stop.
		{"stop a starting service", "stop", StateStartPending, []string{"stop " + server}},
		// A stopping service is let stop, then started.
		{"start a stopping service", "start", StateStopPending, []string{"start " + server}},
		{"start a starting service", "start", StateStartPending, []string{}},
		{"stop a stopping service", "stop", StateStopPending, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSCM()
			s := f.add(server, serverExe, StartAutomatic, tc.state)
			s.polls = 3
			m, ctx, _ := newTestManager(f, SCMOptions{})
			var err error
			want := Running
			if tc.op == "start" {
				err = m.Start(ctx)
			} else {
				err = m.Stop(ctx)
				want = Stopped
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.callLog(); !slices.Equal(got, tc.wantCalls) && !(len(got) == 0 && len(tc.wantCalls) == 0) {
				t.Errorf("calls = %q, want %q", got, tc.wantCalls)
			}
			if st, _ := m.Status(ctx); st != want {
				t.Errorf("status = %v, want %v", st, want)
			}
		})
	}
}

func TestSCMStatusMixed(t *testing.T) {
	f := omflowSCM(StateRunning)
	f.svcs[strings.ToLower(web)].status.State = StateStopped
	m, ctx, _ := newTestManager(f, SCMOptions{})
	if st, err := m.Status(ctx); err != nil || st != Stopped {
		t.Fatalf("Status = %v, %v; want stopped when one service is down", st, err)
	}
}

func TestSCMFence(t *testing.T) {
	f := omflowSCM(StateRunning)
	f.svcs[strings.ToLower(web)].cfg.StartType = StartManual
	m, ctx, _ := newTestManager(f, SCMOptions{})
	restore, err := m.DisableAutostart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	types, _ := m.StartTypes(ctx)
	if types[server] != StartManual || types[web] != StartManual {
		t.Fatalf("start types while fenced = %v", types)
	}
	// Fenced services still stop and start on request.
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatalf("Start while fenced: %v", err)
	}
	if err := restore(ctx); err != nil {
		t.Fatal(err)
	}
	types, _ = m.StartTypes(ctx)
	if types[server] != StartAutomatic || types[web] != StartManual {
		t.Fatalf("start types after restore = %v, want server automatic, web manual as before", types)
	}
	if f.svcs["spooler"].cfg.StartType != StartAutomatic {
		t.Fatal("the fence touched a service that is not OMFLOW's")
	}
}

func TestSCMFenceFailureRestores(t *testing.T) {
	f := omflowSCM(StateRunning)
	f.failSet = server // sorted after web: web is changed first, then put back
	m, ctx, _ := newTestManager(f, SCMOptions{})
	_, err := m.DisableAutostart(ctx)
	var refused *outcome.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "not-elevated" {
		t.Fatalf("err = %v, want a not-elevated refusal", err)
	}
	if got := f.svcs[strings.ToLower(web)].cfg.StartType; got != StartAutomatic {
		t.Fatalf("after a failed fence, %s start type = %v, want automatic again", web, got)
	}
	want := []string{"config " + web + " manual", "config " + web + " automatic"}
	if got := f.callLog(); !slices.Equal(got, want) {
		t.Fatalf("calls = %q, want %q", got, want)
	}
}

func TestOpenSCMManagerOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Windows SCM has its own tests")
	}
	if _, _, err := OpenSCMManager(SCMOptions{Root: root}); !errors.Is(err, ErrSCMNotAvailable) {
		t.Fatalf("OpenSCMManager on %s: %v, want ErrSCMNotAvailable", runtime.GOOS, err)
	}
}
