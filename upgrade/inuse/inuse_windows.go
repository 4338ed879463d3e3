package inuse

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Restart Manager (rstrtmgr.dll, Windows Vista and later). x/sys/windows has no
// bindings for it.
var (
	rstrtmgr                = windows.NewLazySystemDLL("rstrtmgr.dll")
	procRmStartSession      = rstrtmgr.NewProc("RmStartSession")
	procRmRegisterResources = rstrtmgr.NewProc("RmRegisterResources")
	procRmGetList           = rstrtmgr.NewProc("RmGetList")
	procRmEndSession        = rstrtmgr.NewProc("RmEndSession")
)

const (
	cchRmSessionKey = 32 // CCH_RM_SESSION_KEY
	cchRmMaxAppName = 255
	cchRmMaxSvcName = 63
)

// rmProcessInfo is RM_PROCESS_INFO.
type rmProcessInfo struct {
	PID              uint32
	StartTime        windows.Filetime
	AppName          [cchRmMaxAppName + 1]uint16
	ServiceShortName [cchRmMaxSvcName + 1]uint16
	ApplicationType  uint32
	AppStatus        uint32
	TSSessionID      uint32
	Restartable      int32
}

type systemFinder struct{}

// Holders opens each file as a rename would (DELETE access, sharing everything): a
// sharing violation means another handle lacks FILE_SHARE_DELETE. Only for those files
// (few, usually none) does it ask the Restart Manager who holds them, one session per file
// because the Restart Manager's answer does not say which file a process holds.
func (systemFinder) Holders(ctx context.Context, files []string) ([]Holder, error) {
	var out []Holder
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		held, err := blocksRename(f)
		if err != nil {
			return nil, err
		}
		if !held {
			continue
		}
		procs, err := rmHolders(f)
		if err != nil || len(procs) == 0 {
			// The file is held, whoever holds it: say so without a name.
			out = append(out, Holder{File: f})
			continue
		}
		for _, p := range procs {
			p.File = f
			out = append(out, p)
		}
	}
	return out, nil
}

func blocksRename(file string) (bool, error) {
	p, err := windows.UTF16PtrFromString(file)
	if err != nil {
		return false, fmt.Errorf("file %q: %w", file, err)
	}
	h, err := windows.CreateFile(p, windows.DELETE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	switch {
	case err == nil:
		windows.CloseHandle(h)
		return false, nil
	case errors.Is(err, windows.ERROR_SHARING_VIOLATION):
		return true, nil
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND), errors.Is(err, windows.ERROR_PATH_NOT_FOUND):
		return false, nil
	}
	return false, fmt.Errorf("open %q as a rename would: %w", file, err)
}

// rmHolders asks the Restart Manager which processes hold file.
func rmHolders(file string) ([]Holder, error) {
	if err := procRmStartSession.Find(); err != nil {
		return nil, err
	}
	var session uint32
	var key [cchRmSessionKey + 1]uint16
	if r, _, _ := procRmStartSession.Call(uintptr(unsafe.Pointer(&session)), 0, uintptr(unsafe.Pointer(&key[0]))); r != 0 {
		return nil, fmt.Errorf("RmStartSession: %w", windows.Errno(r))
	}
	defer procRmEndSession.Call(uintptr(session))
	name, err := windows.UTF16PtrFromString(file)
	if err != nil {
		return nil, err
	}
	names := []*uint16{name}
	if r, _, _ := procRmRegisterResources.Call(uintptr(session), 1, uintptr(unsafe.Pointer(&names[0])), 0, 0, 0, 0); r != 0 {
		return nil, fmt.Errorf("RmRegisterResources %q: %w", file, windows.Errno(r))
	}
	infos := make([]rmProcessInfo, 4)
	for {
		needed, n := uint32(0), uint32(len(infos))
		var reasons uint32
		r, _, _ := procRmGetList.Call(uintptr(session), uintptr(unsafe.Pointer(&needed)), uintptr(unsafe.Pointer(&n)),
			uintptr(unsafe.Pointer(&infos[0])), uintptr(unsafe.Pointer(&reasons)))
		switch windows.Errno(r) {
		case 0:
			out := make([]Holder, 0, n)
			for _, pi := range infos[:n] {
				out = append(out, Holder{
					PID:     pi.PID,
					Process: windows.UTF16ToString(pi.AppName[:]),
					Service: windows.UTF16ToString(pi.ServiceShortName[:]),
				})
			}
			return out, nil
		case windows.ERROR_MORE_DATA:
			infos = make([]rmProcessInfo, needed+2) // processes may come between two calls
		default:
			return nil, fmt.Errorf("RmGetList %q: %w", file, windows.Errno(r))
		}
	}
}
