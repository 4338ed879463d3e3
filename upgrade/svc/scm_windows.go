package svc

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	winsvc "golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// windowsSCM is this machine's service control manager. The connection asks only to
// connect and enumerate; each call opens the service with the one right it needs.
type windowsSCM struct {
	h windows.Handle
}

func openSCM() (SystemSCM, error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT|windows.SC_MANAGER_ENUMERATE_SERVICE)
	if err != nil {
		return nil, fmt.Errorf("connect to the service control manager: %w", scmErr(err))
	}
	return &windowsSCM{h: h}, nil
}

func (s *windowsSCM) Close() error { return windows.CloseServiceHandle(s.h) }

func (s *windowsSCM) Services() ([]string, error) {
	names, err := (&mgr.Mgr{Handle: s.h}).ListServices()
	if err != nil {
		return nil, fmt.Errorf("EnumServicesStatusEx: %w", scmErr(err))
	}
	return names, nil
}

// open opens service name with access, and hands it to do.
func (s *windowsSCM) open(name string, access uint32, do func(*mgr.Service) error) error {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return err
	}
	h, err := windows.OpenService(s.h, p, access)
	if err != nil {
		return fmt.Errorf("OpenService: %w", scmErr(err))
	}
	defer windows.CloseServiceHandle(h)
	return do(&mgr.Service{Name: name, Handle: h})
}

func (s *windowsSCM) Query(name string) (ServiceStatus, error) {
	var st ServiceStatus
	err := s.open(name, windows.SERVICE_QUERY_STATUS, func(sv *mgr.Service) error {
		q, err := sv.Query()
		if err != nil {
			return fmt.Errorf("QueryServiceStatusEx: %w", scmErr(err))
		}
		st = ServiceStatus{
			State:                   SCMState(q.State),
			PID:                     q.ProcessId,
			Win32ExitCode:           q.Win32ExitCode,
			ServiceSpecificExitCode: q.ServiceSpecificExitCode,
		}
		return nil
	})
	return st, err
}

func (s *windowsSCM) Start(name string) error {
	return s.open(name, windows.SERVICE_START, func(sv *mgr.Service) error {
		if err := sv.Start(); err != nil {
			return fmt.Errorf("StartService: %w", scmErr(err))
		}
		return nil
	})
}

func (s *windowsSCM) Stop(name string) error {
	return s.open(name, windows.SERVICE_STOP, func(sv *mgr.Service) error {
		if _, err := sv.Control(winsvc.Stop); err != nil {
			return fmt.Errorf("ControlService(STOP): %w", scmErr(err))
		}
		return nil
	})
}

func (s *windowsSCM) SetStartType(name string, t StartType) error {
	return s.open(name, windows.SERVICE_CHANGE_CONFIG, func(sv *mgr.Service) error {
		err := windows.ChangeServiceConfig(sv.Handle, windows.SERVICE_NO_CHANGE, uint32(t),
			windows.SERVICE_NO_CHANGE, nil, nil, nil, nil, nil, nil, nil)
		if err != nil {
			return fmt.Errorf("ChangeServiceConfig: %w", scmErr(err))
		}
		return nil
	})
}

// Config reads the service's registry key. Service.Config (QueryServiceConfig and
// QueryServiceConfig2) needs SERVICE_QUERY_CONFIG and fails under Wine; the registry is
// where the SCM keeps the same values, and reading it needs no service handle.
func (s *windowsSCM) Config(name string) (ServiceConfig, error) {
	if strings.ContainsAny(name, `\/`) || name == "" {
		return ServiceConfig{}, fmt.Errorf("service name %q: %w", name, ErrNoService)
	}
	path := `SYSTEM\CurrentControlSet\Services\` + name
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE)
	if err != nil {
		return ServiceConfig{}, fmt.Errorf(`open HKLM\%s: %w`, path, scmErr(err))
	}
	defer k.Close()
	var c ServiceConfig
	image, typ, err := k.GetStringValue("ImagePath")
	if err != nil {
		return ServiceConfig{}, fmt.Errorf(`read HKLM\%s\ImagePath: %w`, path, err)
	}
	if typ == registry.EXPAND_SZ {
		if image, err = registry.ExpandString(image); err != nil {
			return ServiceConfig{}, fmt.Errorf(`expand HKLM\%s\ImagePath: %w`, path, err)
		}
	}
	c.ImagePath = image
	start, _, err := k.GetIntegerValue("Start")
	if err != nil {
		return ServiceConfig{}, fmt.Errorf(`read HKLM\%s\Start: %w`, path, err)
	}
	c.StartType = StartType(start)
	c.DisplayName, _, _ = k.GetStringValue("DisplayName")   // optional
	c.DependOn, _, _ = k.GetStringsValue("DependOnService") // optional
	return c, nil
}

// LongPath expands 8.3 short names (C:\PROGRA~1) of an existing file.
func (s *windowsSCM) LongPath(path string) (string, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return "", err
	}
	buf := make([]uint16, windows.MAX_PATH)
	for {
		n, err := windows.GetLongPathName(p, &buf[0], uint32(len(buf)))
		if err != nil {
			return "", fmt.Errorf("GetLongPathName %q: %w", path, err)
		}
		if n <= uint32(len(buf)) {
			return windows.UTF16ToString(buf[:n]), nil
		}
		buf = make([]uint16, n)
	}
}

// scmErr marks the system's error with the kind the logic branches on; the system's own
// message stays in the text.
func scmErr(err error) error {
	var kind error
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case windows.ERROR_SERVICE_DOES_NOT_EXIST, windows.ERROR_FILE_NOT_FOUND, windows.ERROR_SERVICE_MARKED_FOR_DELETE:
			kind = ErrNoService
		case windows.ERROR_SERVICE_DISABLED:
			kind = ErrServiceDisabled
		case windows.ERROR_ACCESS_DENIED:
			kind = ErrAccessDenied
		case windows.ERROR_SERVICE_CANNOT_ACCEPT_CTRL:
			kind = ErrCannotAcceptCtrl
		case windows.ERROR_SERVICE_NOT_ACTIVE:
			kind = ErrServiceNotActive
		case windows.ERROR_SERVICE_ALREADY_RUNNING:
			kind = ErrAlreadyRunning
		case windows.ERROR_SERVICE_REQUEST_TIMEOUT:
			kind = ErrStartTimeout
		}
	}
	if kind == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", err, kind)
}
