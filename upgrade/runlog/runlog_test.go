package runlog

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestPruneKeepsTheNewestReadOnlyLogsAndEveryOther(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 25 {
		name := fmt.Sprintf("omflow-upgrade-check-20261204-10%04d-%d.log", i, 100+i)
		if i >= 5 {
			want = append(want, name)
		}
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	for _, name := range []string{"omflow-upgrade-apply-20261201-090000-1.log", "omflow-upgrade-rollback-20261201-090000-2.log",
		"omflow-upgrade-status-20261201-090000-3.log", "notes.txt"} {
		want = append(want, name)
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	if n := Prune(dir, []string{"check", "plan", "status"}, 20); n != 5 {
		t.Fatalf("removed %d logs, want the 5 oldest check logs", n)
	}
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("left %v\nwant %v", got, want)
	}
}
