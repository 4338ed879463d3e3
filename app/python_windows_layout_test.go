package app

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/wizard"
)

// TestPythonMoveTextsOnTheWindowsLayout: on a Windows installation the check's Python
// row says where Python311 goes and follows with the core's text (the installer's
// bitness, the packages apply installs), a Python of the wrong bitness is explained, the
// wheel folder is offered, and the Python screen compares Python311 with the Python
// OMFLOW ran on at the check.
func TestPythonMoveTextsOnTheWindowsLayout(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	h := start(t, d, d.Package, nil)
	en := h.en
	h.toCheck()
	h.checkDone()
	r := h.a.report
	r.Package.Manifest.Requires.Python = "3.11"
	win := *r.Installation
	win.Layout = install.Windows
	r.Installation, h.a.in = &win, &win
	py311 := filepath.Join(win.Root, "Python311")
	vars := map[string]any{"Version": "3.11", "Path": py311}
	for _, tt := range []struct {
		reason upgrade.Reason
		ok     bool
		key    string
	}{
		{upgrade.ReasonPythonMove, true, "check.ok.pythonMove"},
		{upgrade.ReasonPythonMissing, false, "check.refused.python"},
		{upgrade.ReasonPythonBitness, false, "check.refused.pythonBitness"},
	} {
		_, detail, st := h.a.check.item(upgrade.CheckItem{Name: upgrade.CheckPython, OK: tt.ok, Reason: tt.reason, Message: "the core's text"})
		want := wizard.Passed
		if !tt.ok {
			want = wizard.Failed
		}
		assert.Equal(t, want, st, tt.reason)
		assert.Equal(t, en.T(tt.key, vars)+"\nthe core's text", detail, tt.reason)
	}

	r.Checks = append(r.Checks, upgrade.CheckItem{Name: upgrade.CheckPython, OK: true, Reason: upgrade.ReasonPythonMove})
	h.a.check.relabelChoices()
	assert.True(t, h.a.check.wheelsBox.Visible(), "Windows installs the missing packages online or from a folder of wheels too")
	h.a.cfg.GOOS = "windows"
	h.a.oldPythonDir = filepath.Join(win.Root, "Python")
	assert.Equal(t, py311, h.a.python.defaultNew())
	assert.Equal(t, filepath.Join(win.Root, "Python"), h.a.python.oldDir())
}
