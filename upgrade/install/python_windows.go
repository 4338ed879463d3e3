package install

import (
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows/registry"
)

func init() { registryPython = lookupRegistryPython }

// lookupRegistryPython finds dir among the Pythons registered as PEP 514 says: under
// SOFTWARE\Python\PythonCore\TAG\InstallPath (default value) of HKLM, in both registry
// views (a 32-bit Python on 64-bit Windows registers under WOW6432Node), then of HKCU.
// The version is the key's Version value (3.5 and later), else its SysVersion, else the
// tag's "3.7" of "3.7-32"; the bitness is SysArchitecture, else the view.
func lookupRegistryPython(dir string) (string, int, bool) {
	want := strings.TrimRight(filepath.Clean(dir), `\`)
	for _, loc := range []struct {
		root registry.Key
		view uint32
		bits int
	}{
		{registry.LOCAL_MACHINE, registry.WOW64_64KEY, 64},
		{registry.LOCAL_MACHINE, registry.WOW64_32KEY, 32},
		{registry.CURRENT_USER, 0, 0},
	} {
		core, err := registry.OpenKey(loc.root, `SOFTWARE\Python\PythonCore`, registry.READ|loc.view)
		if err != nil {
			continue
		}
		tags, _ := core.ReadSubKeyNames(-1)
		core.Close()
		for _, tag := range tags {
			k, err := registry.OpenKey(loc.root, `SOFTWARE\Python\PythonCore\`+tag, registry.READ|loc.view)
			if err != nil {
				continue
			}
			v, bits, ok := registeredAt(k, loc.root, tag, loc.view, want)
			k.Close()
			if !ok {
				continue
			}
			if bits == 0 {
				bits = loc.bits
				if strings.HasSuffix(tag, "-32") {
					bits = 32
				}
			}
			return v, bits, true
		}
	}
	return "", 0, false
}

func registeredAt(k registry.Key, root registry.Key, tag string, view uint32, want string) (string, int, bool) {
	ip, err := registry.OpenKey(root, `SOFTWARE\Python\PythonCore\`+tag+`\InstallPath`, registry.READ|view)
	if err != nil {
		return "", 0, false
	}
	path, _, err := ip.GetStringValue("")
	ip.Close()
	if err != nil || !strings.EqualFold(strings.TrimRight(filepath.Clean(path), `\`), want) {
		return "", 0, false
	}
	v, _, err := k.GetStringValue("Version")
	if err != nil || v == "" {
		v, _, _ = k.GetStringValue("SysVersion")
	}
	if v == "" {
		v, _, _ = strings.Cut(tag, "-")
	}
	bits := 0
	switch arch, _, _ := k.GetStringValue("SysArchitecture"); arch {
	case "32bit":
		bits = 32
	case "64bit":
		bits = 64
	}
	return v, bits, true
}
