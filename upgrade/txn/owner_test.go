package txn

import (
	"io/fs"
	"testing"
)

func TestKeptMode(t *testing.T) {
	tests := []struct {
		name     string
		ref, pkg fs.FileMode
		want     fs.FileMode
	}{
		{"the replaced file's mode wins", 0o640, 0o644, 0o640},
		{"a private file stays private", 0o600, 0o644, 0o600},
		{"group-writable database stays so", 0o660, 0o644, 0o660},
		{"the package makes a script executable: for whom may read it", 0o640, 0o755, 0o750},
		{"executable for all who read", 0o644, 0o755, 0o755},
		{"an execute bit is never taken away", 0o750, 0o644, 0o750},
		{"only the package's execute bits count", 0o644, 0o700, 0o744},
		{"set-id bits are not carried", fs.ModeSetuid | fs.ModeSetgid | 0o755, 0o644, 0o755},
		{"a file nobody may read gets no execute bit", 0o000, 0o755, 0o000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keptMode(tt.ref, tt.pkg); got != tt.want {
				t.Errorf("keptMode(%v, %v) = %v, want %v", tt.ref, tt.pkg, got, tt.want)
			}
		})
	}
}
