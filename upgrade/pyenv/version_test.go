package pyenv

import (
	"sort"
	"testing"
)

func TestVersionOrder(t *testing.T) {
	// Each version sorts strictly before the next (PEP 440's examples and pip's habits).
	ordered := []string{
		"not a version",
		"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12",
		"1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345",
		"1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5",
		"1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1",
		"2.2.28", "4.2", "4.10", "1!0.1",
	}
	for i := 0; i+1 < len(ordered); i++ {
		a, b := ordered[i], ordered[i+1]
		if CompareVersions(a, b) >= 0 || CompareVersions(b, a) <= 0 {
			t.Errorf("%q should sort before %q", a, b)
		}
	}
	shuffled := append([]string{}, ordered...)
	sort.Slice(shuffled, func(i, j int) bool { return i > j })
	sort.Slice(shuffled, func(i, j int) bool { return CompareVersions(shuffled[i], shuffled[j]) < 0 })
	for i := range ordered {
		if shuffled[i] != ordered[i] {
			t.Fatalf("sorted = %q\nwant %q", shuffled, ordered)
		}
	}
}

func TestVersionEqualAndNormal(t *testing.T) {
	tests := []struct{ in, normal string }{
		{"1.0", "1.0"},
		{"1.0.0-RC1", "1.0.0rc1"},
		{"v1.2alpha", "1.2a0"},
		{"1.0-1", "1.0.post1"},
		{"1.0.r2", "1.0.post2"},
		{"1.0_dev", "1.0.dev0"},
		{"2019.3+Ubuntu-1", "2019.3+ubuntu.1"},
		{"0!1.0c3", "1.0rc3"},
		{"2.2.x", "2.2.x"}, // legacy: as given
	}
	for _, tt := range tests {
		v := ParseVersion(tt.in)
		if v.String() != tt.normal {
			t.Errorf("ParseVersion(%q).String() = %q, want %q", tt.in, v.String(), tt.normal)
		}
		if CompareVersions(tt.in, tt.normal) != 0 {
			t.Errorf("%q and %q should be equal", tt.in, tt.normal)
		}
	}
	if CompareVersions("1.0", "1.0.0") != 0 {
		t.Error("1.0 and 1.0.0 should be equal")
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Django", "django"},
		{"python_ldap", "python-ldap"},
		{"zope.interface", "zope-interface"},
		{"ruamel.yaml", "ruamel-yaml"},
		{"Foo__-.Bar", "foo-bar"},
		{"mod_wsgi", "mod-wsgi"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
