package app

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/txn"
)

// failedStepKeys say what went wrong when the update failed at these steps; any other
// step is named in error.failedAt.
var failedStepKeys = map[string]string{
	upgrade.StepStart:   "error.failedStart",
	upgrade.StepHealth:  "error.failedHealth",
	upgrade.StepMigrate: "error.failedMigrate",
	upgrade.StepPython:  "error.failedPython",
	upgrade.StepSchema:  "error.failedSchema",
}

// happened says in the language in use what went wrong, from the codes the core gives:
// the kind of error, a refusal's reason, the step that failed ("" when none is known).
// The core's own English text is the detail under it.
func (a *App) happened(err error, step string) string {
	var (
		failed   *outcome.FailedError
		refused  *outcome.RefusedError
		unusable *outcome.UnusableError
	)
	switch {
	case errors.As(err, &failed) || (step != "" && !errors.As(err, &refused) && !errors.As(err, &unusable)):
		if key, ok := failedStepKeys[step]; ok {
			return a.t(key, nil)
		}
		if key, ok := stepKeys[step]; ok {
			return a.t("error.failedAt", map[string]any{"Step": a.t(key, nil)})
		}
		return a.t("error.failed", nil)
	case errors.As(err, &refused):
		return a.refusal(refused)
	case errors.As(err, &unusable):
		return a.t("error.unusable", nil)
	}
	return a.t("error.unexpected", nil)
}

// refusal translates a refusal by its reason code; the words are the check screen's
// where it has them.
func (a *App) refusal(r *outcome.RefusedError) string {
	vers := map[string]any{"Requires": r.Requires, "Error": ""}
	if rep := a.report; rep != nil {
		vers["Update"], vers["Installed"], vers["Version"] = rep.Update, rep.Installed, rep.Installed
		if rep.Package != nil && rep.Package.Manifest != nil {
			vers["From"] = rep.Package.Manifest.From
		}
	}
	if key, ok := versionKeys[r.Reason]; ok && r.Reason != upgrade.ReasonBadVersion {
		return a.t(key, vers)
	}
	switch r.Reason {
	case upgrade.ReasonConfigConflict:
		var files []string
		for path := range a.configDiffs {
			files = append(files, path)
		}
		return a.t("check.refused.configConflict", map[string]any{"Files": strings.Join(files, ", ")})
	case upgrade.ReasonLockHeld:
		return a.t("check.refused.lockHeld", map[string]any{"Holder": a.lockHolder(r)})
	case upgrade.ReasonInterruptedRun:
		return a.t("check.refused.pending", nil)
	case upgrade.ReasonDiskSpace:
		return a.t("error.refusedSpace", nil)
	case upgrade.ReasonSchemaUnsafe:
		return a.t("check.refused.schemaUnsafe", nil)
	case upgrade.ReasonNewCodeFails:
		return a.t("check.refused.newCodeFails", nil)
	case upgrade.ReasonDatabaseChangedSince:
		return a.t("rollback.ask.message", nil)
	}
	return a.t("error.refused", nil)
}

// showError shows an error dialog: what happened (translated), the core's English text
// under it, smaller and selectable (administrators paste it into tickets), what was left
// as it was, and where the log is (SPEC 3).
func (a *App) showError(happened string, err error, kept string) {
	box := container.NewVBox()
	add := func(text string, style func(*widget.Label)) {
		if text == "" {
			return
		}
		l := wrapped(text)
		l.Selectable = true
		if style != nil {
			style(l)
		}
		box.Add(l)
	}
	add(a.t("error.happened", map[string]any{"Error": happened}), func(l *widget.Label) { l.Importance = widget.DangerImportance })
	add(errorDetail(err), func(l *widget.Label) { l.SizeName = theme.SizeNameCaptionText })
	add(kept, nil)
	add(a.t("error.log", map[string]any{"Path": a.LogPath()}), nil)
	fyne.Do(func() {
		d := dialog.NewCustom(a.t("error.title", nil), a.t("wizard.close", nil), box, a.win)
		d.Resize(fyne.NewSize(560, 0))
		d.Show()
	})
}

// errorDetail is the core's text of err, or "".
func errorDetail(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// lockHolder names the run that holds the installation: the lock's own words when apply
// met it, the check's when the check did.
func (a *App) lockHolder(err error) string {
	var held *txn.LockHeldError
	if errors.As(err, &held) && held.Holder != nil {
		return held.Holder.String()
	}
	if r := a.report; r != nil {
		for _, c := range r.Checks {
			if c.Name == upgrade.CheckLock && c.Holder != "" {
				return c.Holder
			}
		}
	}
	return err.Error()
}
