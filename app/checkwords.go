package app

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/wizard"
)

// stateName translates a service state ("running", "stopped", "unknown").
func (a *App) stateName(state string) string {
	switch state {
	case "running":
		return a.t("check.state.running", nil)
	case "stopped":
		return a.t("check.state.stopped", nil)
	}
	return a.t("check.state.unknown", nil)
}

// checkNames are the message ids of the checks' titles.
var checkNames = map[string]string{
	checkRoot:                 "check.name.root",
	upgrade.CheckInstallation: "check.name.installation",
	upgrade.CheckService:      "check.name.service",
	upgrade.CheckPackage:      "check.name.package",
	upgrade.CheckSignature:    "check.name.signature",
	upgrade.CheckVersion:      "check.name.version",
	upgrade.CheckPending:      "check.name.pending",
	upgrade.CheckLock:         "check.name.lock",
	upgrade.CheckDiskSpace:    "check.name.diskSpace",
	upgrade.CheckPython:       "check.name.python",
	upgrade.CheckDatabase:     "check.name.database",
	upgrade.CheckConfig:       "check.name.config",
	upgrade.CheckReboot:       "check.name.reboot",
	upgrade.CheckInUse:        "check.name.filesInUse",
	upgrade.CheckSchema:       "check.name.schema",
	upgrade.CheckTrust:        "check.name.trust",
}

// checkTitle is a check's title; a check the wizard has no words for shows the core's
// name.
func (a *App) checkTitle(name string) string {
	if id, ok := checkNames[name]; ok {
		return a.t(id, nil)
	}
	return name
}

// unusable names the check that an error without a report belongs to and says why.
func (s *checkScreen) unusable(err error) (name, detail string) {
	a := s.a
	var ie *installError
	var se *pkg.SignatureError
	switch {
	case errors.As(err, &ie):
		root := a.cfg.Root
		if root == "" {
			root = install.DefaultRoot()
		}
		return "installation", a.t("check.refused.notInstalled", map[string]any{"Root": root, "Error": ie.err.Error()})
	case errors.As(err, &se) && se.State == pkg.SigInvalid:
		return "signature", a.t("check.refused.signatureInvalid", nil)
	case errors.As(err, &se):
		return "signature", a.t("check.refused.unsigned", nil)
	}
	return "package", a.t("check.refused.badPackage", map[string]any{"Error": err.Error()})
}

// item translates one check by its name and reason code; a check the wizard has no
// words for shows the core's own message.
func (s *checkScreen) item(c upgrade.CheckItem) (title, detail string, state wizard.State) {
	a := s.a
	r := a.report
	title = a.checkTitle(c.Name)
	state = wizard.Passed
	switch {
	case !c.OK:
		state = wizard.Failed
	case c.Warning:
		state = wizard.Warning
	}
	from := ""
	if r.Package != nil && r.Package.Manifest != nil {
		from = r.Package.Manifest.From
	}
	vers := map[string]any{"Update": r.Update, "Installed": r.Installed, "Requires": c.Requires,
		"From": from, "Version": r.Installed, "Root": r.Root}
	key := ""
	switch c.Name {
	case checkPlan:
		return a.t("check.plan.heading", nil), a.planText(c), state
	case checkRoot:
		key = pick(c.OK, "check.ok.root", "check.refused.notRoot")
	case upgrade.CheckInstallation:
		key = "check.ok.installation"
	case upgrade.CheckService:
		key = pick(c.Warning, "check.warn.serviceUnknown", "check.ok.service")
		vers["State"] = a.stateName(r.Service)
	case upgrade.CheckPackage:
		if !c.OK {
			return title, a.t("check.refused.legacyPatch", nil) + "\n" + c.Message, state
		}
		key = pick(c.Warning, "check.warn.legacy", "check.ok.package")
	case upgrade.CheckSignature:
		key = pick(c.Warning, "check.warn.unsigned", "check.ok.signature")
	case upgrade.CheckTrust:
		key = trustText(r, c, vers)
	case upgrade.CheckVersion:
		key = versionKeys[c.Reason]
		vers["Error"] = c.Message
	case upgrade.CheckPending:
		key = pick(c.OK, "check.ok.pending", "check.refused.pending")
	case upgrade.CheckLock:
		key = pick(c.OK, "check.ok.lock", "check.refused.lockHeld")
		vers["Holder"] = c.Holder
	case upgrade.CheckDiskSpace:
		key = pick(c.OK, "check.space.ok", "check.space.refused")
		vers["Error"] = c.Message
		vers["Needed"] = humanBytes(c.Bytes)
	case upgrade.CheckDatabase:
		switch {
		case s.needsDBBackup(c):
			state = wizard.Failed
			key = "check.refused.database"
			// django.db.backends.postgresql: the last word is the name people know.
			vers["Engine"] = c.Engine[strings.LastIndex(c.Engine, ".")+1:]
		case c.Reason == upgrade.ReasonDatabaseNotBackedUp:
			key = "check.choice.databaseBackedUp"
		case c.OK && !c.Warning:
			key = "check.ok.database"
		case c.Reason == upgrade.ReasonDatabaseUnknown:
			key = "check.warn.databaseUnknown"
		}
	case upgrade.CheckConfig:
		vers["Files"] = strings.Join(configFiles(r, "conflict"), ", ")
		switch {
		case !c.OK && c.Reason == upgrade.ReasonConfigConflict:
			key = "check.refused.configConflict"
		case c.OK && len(configFiles(r, "merged")) > 0:
			key = "check.ok.configMerged"
			vers["Files"] = strings.Join(configFiles(r, "merged"), ", ")
		case c.OK:
			key = "check.ok.config"
		}
	case upgrade.CheckSchema:
		return title, s.schemaText(c), state
	case upgrade.CheckPython:
		vers["Version"] = a.pythonTarget()
		vers["Path"] = "/usr/bin"
		windows := r.Installation != nil && r.Installation.Layout == install.Windows
		if windows {
			vers["Path"] = a.windowsPythonDir()
		}
		switch {
		case windows && (c.OK && c.Reason == upgrade.ReasonPythonMove || c.Reason == upgrade.ReasonPythonMissing):
			// The core's text says which Python (version, 32 or 64 bits) goes where, and
			// which packages apply installs into it: it follows the sentence.
			key = "check.ok.pythonMove"
			if !c.OK {
				key = "check.refused.python"
			}
			return title, a.t(key, vers) + "\n" + c.Message, state
		case c.Reason == upgrade.ReasonPythonBitness:
			return title, a.t("check.refused.pythonBitness", vers) + "\n" + c.Message, state
		case c.OK && c.Reason == upgrade.ReasonPythonMove:
			key = "check.ok.pythonMove"
		case c.OK:
			key = "check.ok.python"
		case c.Reason == upgrade.ReasonPythonMissing:
			key = "check.refused.python"
		case c.Reason == upgrade.ReasonPythonNoVenv:
			key = "check.refused.pythonVenv"
		case c.Reason == upgrade.ReasonPackagesMissing:
			// The core's text holds the exact command: it follows the sentence.
			return title, a.t("check.refused.pythonPackages", nil) + "\n" + c.Message, state
		}
	}
	if key == "" {
		// No words of ours for it: say so in the language in use, then the core's text.
		switch state {
		case wizard.Failed:
			return title, a.t("check.refused.unknown", nil) + "\n" + c.Message, state
		case wizard.Warning:
			return title, a.t("check.warn.unknown", nil) + "\n" + c.Message, state
		}
		return title, c.Message, state
	}
	return title, a.t(key, vers), state
}

// schemaText says what the update does to the site's database, tried on a copy, and
// under it the names of what it adds (names are the database's, not translated); a
// refusal, and the core's text with Django's own error.
func (s *checkScreen) schemaText(c upgrade.CheckItem) string {
	a := s.a
	switch {
	case !c.OK && c.Reason == upgrade.ReasonSchemaUnsafe:
		return a.t("check.refused.schemaUnsafe", nil) + "\n" + c.Message
	case !c.OK:
		return a.t("check.refused.newCodeFails", nil) + "\n" + c.Message
	}
	db := a.report.Database
	if db == nil || db.Empty() {
		return a.t("check.ok.schemaNone", nil)
	}
	var rows int64
	var names []string
	for _, t := range db.Tables {
		rows += t.Rows
		names = append(names, t.Name)
	}
	for _, col := range db.Columns {
		names = append(names, col.Table+"."+col.Column)
	}
	for _, ix := range db.Indexes {
		names = append(names, ix.Name)
	}
	names = append(names, db.Migrations...)
	return a.t("check.ok.schema", map[string]any{"Tables": len(db.Tables), "Rows": rows, "Columns": len(db.Columns),
		"Indexes": len(db.Indexes), "Migrations": len(db.Migrations) + len(db.Recorded)}) + "\n" + strings.Join(names, "\n")
}

// trustText picks the words for the keys document's check and fills their values.
func trustText(r *upgrade.CheckReport, c upgrade.CheckItem, vers map[string]any) string {
	v := r.Package.Trust
	if v == nil {
		return ""
	}
	vers["Key"], vers["End"] = r.Package.KeyID, pkg.DirectSignaturesEnd
	if v.Doc != nil {
		d := v.Doc.Doc
		// On a rollback refusal the ruling document is the kept one.
		vers["Serial"], vers["Kept"], vers["Floor"] = d.Serial, d.Serial, d.MinVersion
		if k, _, ok := d.Find(keyID(v.KeyID)); ok {
			vers["Until"] = k.NotAfterTime().Format("2006-01-02")
		}
	}
	switch {
	case c.OK && c.Reason == upgrade.ReasonKeysMissing:
		return "check.warn.keysMissing"
	case c.OK:
		return "check.ok.trust"
	}
	return trustKeys[c.Reason]
}

// keyID reads a key id as minisign prints it.
func keyID(s string) uint64 { n, _ := strconv.ParseUint(s, 16, 64); return n }

// trustKeys translate the keys document's refusals (upgrade/trust).
var trustKeys = map[upgrade.Reason]string{
	upgrade.ReasonKeyExpired:     "check.refused.keyExpired",
	upgrade.ReasonKeyRevoked:     "check.refused.keyRevoked",
	upgrade.ReasonPackageRevoked: "check.refused.packageRevoked",
	upgrade.ReasonBelowFloor:     "check.refused.belowFloor",
	upgrade.ReasonKeysRollback:   "check.refused.keysRollback",
}

// versionKeys translate the version rule's reason codes (upgrade/version/gate.go).
var versionKeys = map[upgrade.Reason]string{
	upgrade.ReasonFixRelease:        "check.ok.versionFix",
	upgrade.ReasonFeatureRelease:    "check.ok.versionFeature",
	upgrade.ReasonClimb:             "check.ok.versionClimb",
	upgrade.ReasonFromLine:          "check.ok.versionFromLine",
	upgrade.ReasonAlreadyInstalled:  "check.refused.alreadyInstalled",
	upgrade.ReasonDowngrade:         "check.refused.downgrade",
	upgrade.ReasonNeedsFirstRelease: "check.refused.needsFirstRelease",
	upgrade.ReasonNeedsStepping:     "check.refused.needs1140",
	upgrade.ReasonNeedsFromLine:     "check.refused.needsFromLine",
	upgrade.ReasonFromMismatch:      "check.refused.fromMismatch",
	upgrade.ReasonBadVersion:        "check.refused.badVersion",
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// humanBytes is n in binary units, as the core writes them.
var humanBytes = upgrade.HumanBytes

// planText says which versions the chain installs, or why there is none, and which files
// of the folder were left out.
func (a *App) planText(c upgrade.CheckItem) string {
	p := a.plan
	var lines []string
	if c.OK {
		var path []string
		for _, st := range p.Steps {
			path = append(path, st.Version)
		}
		lines = append(lines, a.t("check.plan.path", map[string]any{"Installed": p.Installed, "Target": p.Target,
			"Path": p.Installed + " → " + strings.Join(path, " → ")}),
			a.loc.Plural("check.plan.hops", len(p.Steps), nil))
	} else {
		lines = append(lines, a.planProblem())
	}
	if p != nil {
		for _, sk := range p.Skipped {
			lines = append(lines, a.t("check.plan.skipped", map[string]any{"Package": filepath.Base(sk.Package), "Reason": sk.Reason}))
		}
	}
	return strings.Join(lines, "\n")
}

// planProblem says why a folder of packages gives no chain.
func (a *App) planProblem() string {
	p := a.plan
	switch {
	case p != nil && p.Requires != "":
		return a.t("check.plan.missing", map[string]any{"Requires": p.Requires})
	case a.planErr != nil:
		return a.t("check.refused.badPackage", map[string]any{"Error": a.planErr.Error()})
	case p != nil:
		return a.t("check.refused.alreadyInstalled", map[string]any{"Version": p.Installed})
	}
	return a.t("license.package.loading", nil)
}

// configFiles are the config files of the report with the given result.
func configFiles(r *upgrade.CheckReport, result string) []string {
	var out []string
	for _, c := range r.Config {
		if c.Result == result {
			out = append(out, c.Path)
		}
	}
	return out
}
