package reboot

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// System is this machine's registry (HKLM), read only.
func System() Registry { return hklm{} }

type hklm struct{}

func (hklm) KeyExists(key string) (bool, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, key, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	k.Close()
	return true, nil
}

func (hklm) Strings(key, value string) ([]string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, key, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	defer k.Close()
	ss, typ, err := k.GetStringsValue(value)
	switch {
	case errors.Is(err, registry.ErrNotExist):
		return nil, ErrNotExist
	case errors.Is(err, registry.ErrUnexpectedType) && typ == registry.SZ:
		s, _, err := k.GetStringValue(value)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	case err != nil:
		return nil, fmt.Errorf("type %d: %w", typ, err)
	}
	return ss, nil
}
