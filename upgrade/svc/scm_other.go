//go:build !windows

package svc

func openSCM() (SystemSCM, error) { return nil, ErrSCMNotAvailable }
