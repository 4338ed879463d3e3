package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/outcome"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/upgrade/version"
)

// Check names, stable: logs, -json and the wizard's translations use them.
const (
	CheckInstallation = "installation"
	CheckService      = "service"
	CheckPackage      = "package"
	CheckSignature    = "signature"
	CheckVersion      = "version"
	CheckPending      = "pending"
	CheckLock         = "lock"
	CheckDiskSpace    = "disk-space"
	CheckPython       = "python"
	CheckDatabase     = "database"
	CheckConfig       = "config"
	CheckReboot       = "reboot"
	CheckInUse        = "files-in-use"
	CheckSchema       = "schema"
	CheckTrust        = "trust"
)

// CheckItem is one line of the compatibility check.
type CheckItem struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	// Reason is a stable code when the check fails (or warns); Requires the version to
	// install first, when one helps; Warning marks a passed check that needs attention.
	Reason   Reason `json:"reason,omitempty"`
	Requires string `json:"requires,omitempty"`
	Warning  bool   `json:"warning,omitempty"`
	// Bytes is the disk-space check's figure: what the update writes before its renames.
	Bytes int64 `json:"bytes,omitempty"`

	// What the message says, for a caller that words it itself (the wizard); -json has
	// the message.
	//
	// Holder is the run that holds the lock (CheckLock).
	Holder string `json:"-"`
	// Engine is the site's Django database engine (CheckDatabase), and NeedsDBBackedUp
	// says the update refuses it until the run is told it is backed up (-db-backed-up).
	Engine          string `json:"-"`
	NeedsDBBackedUp bool   `json:"-"`
	// PythonFrom and PythonTo are the Python versions an update moves OMFLOW between
	// (CheckPython).
	PythonFrom, PythonTo string `json:"-"`
}

// CheckReport is what check found: SPEC 5's check -json.
type CheckReport struct {
	Allowed   bool           `json:"allowed"`
	Installed string         `json:"installed"`
	Update    string         `json:"update"`
	Reason    Reason         `json:"reason"`
	Requires  string         `json:"requires,omitempty"`
	Root      string         `json:"root"`
	Service   string         `json:"service"`
	Signature string         `json:"signature"`
	Legacy    bool           `json:"legacy"`
	Checks    []CheckItem    `json:"checks"`
	Files     []FileAction   `json:"files,omitempty"`
	Config    []ConfigResult `json:"config,omitempty"`
	// Database is what the update does to the site's SQLite database, tried on a copy.
	Database *DatabaseReport `json:"database,omitempty"`
	Log      string          `json:"log,omitempty"`

	// What the wizard shows beside the checks.
	Package      *pkg.Package          `json:"-"`
	Installation *install.Installation `json:"-"`
}

// FileAction is one line of the dry run (check -files).
type FileAction struct {
	Path   string `json:"path"`
	Action string `json:"action"`
	Size   int64  `json:"size"`
}

// ConfigResult is what the update does (or did) with one config or data file.
type ConfigResult struct {
	Path   string `json:"path"`
	Result string `json:"result"`
}

func (r *CheckReport) add(c CheckItem) { r.Checks = append(r.Checks, c) }

// refuse records a failed check and, for the first one, the report's verdict.
func (r *CheckReport) refuse(c CheckItem) {
	c.OK = false
	r.add(c)
	if r.Allowed || r.Reason == "" {
		r.Allowed = false
		r.Reason, r.Requires = c.Reason, c.Requires
	}
}

// Err is nil when the update is allowed and a *outcome.RefusedError naming every failed
// check otherwise.
func (r *CheckReport) Err() error {
	if r.Allowed {
		return nil
	}
	var msgs []string
	for _, c := range r.Checks {
		if !c.OK {
			msgs = append(msgs, c.Message)
		}
	}
	return &outcome.RefusedError{Reason: r.Reason, Requires: r.Requires,
		Err: errors.New(joinSentences(msgs))}
}

func joinSentences(msgs []string) string {
	s := ""
	for i, m := range msgs {
		if i > 0 {
			s += "; "
		}
		s += m
	}
	return s
}

// Check runs the compatibility check of a package against the installation, read-only:
// it changes nothing on disk but the run's log. The error is nil when the update is
// allowed, a *outcome.RefusedError when a check fails (the report says which), and an
// unusable-input error when the installation or the package cannot be read (no report).
func (s *Session) Check(ctx context.Context, pkgPath string, withFiles bool) (*CheckReport, error) {
	return check(ctx, s.opt, s.begin(), pkgPath, withFiles, false)
}

// check is Check on an installation already found.
func check(ctx context.Context, opt Options, in *install.Installation, pkgPath string, withFiles, headOnly bool) (*CheckReport, error) {
	kept, err := opt.keptKeys(in)
	if err != nil {
		return nil, err
	}
	p, err := opt.openPackage(ctx, kept, pkgPath, headOnly)
	if err != nil {
		return nil, err
	}
	r := &CheckReport{Allowed: true, Root: in.Root, Installed: in.Version.String(), Update: p.Version(),
		Signature: string(p.Signature), Legacy: p.Legacy != nil, Package: p, Installation: in}
	r.add(CheckItem{Name: CheckInstallation, OK: true,
		Message: fmt.Sprintf("OMFLOW %s at %s (%s layout)", in.Version, in.Root, in.Layout)})
	checkService(ctx, &opt, in, r)
	checkPackage(p, r)
	if p.Manifest != nil {
		if err := p.Manifest.CheckLinks(installLinks(in.Root)); err != nil {
			return nil, outcome.Unusable(fmt.Errorf("package %q over %s: %w", pkgPath, in.Root, err))
		}
	}
	checkTrust(p, r)
	checkVersion(in, p, r)
	checkState(in, neededSpace(ctx, in, p, opt.logf), r)
	checkDatabase(&opt, in, r)
	checkPython(ctx, &opt, in, p, r)
	checkInUse(ctx, in, p, r)
	var changes []configChange
	if !headOnly && p.Manifest != nil {
		// Apply decides the config files on its staged copies; check reads them.
		if changes, err = checkConfigs(ctx, &opt, in, p, r); err != nil {
			return nil, err
		}
		if r.Allowed {
			if err := checkSchema(ctx, &opt, in, p, changes, r); err != nil {
				return nil, err
			}
		}
	}
	r.Reason = verdictReason(r)
	if withFiles {
		r.Files = dryRun(in, p, changes)
	}
	for _, c := range r.Checks {
		if c.Reason != "" {
			opt.logf("check %s: ok=%v reason=%s %s", c.Name, c.OK, c.Reason, c.Message)
		} else {
			opt.logf("check %s: ok=%v %s", c.Name, c.OK, c.Message)
		}
	}
	return r, r.Err()
}

// verdictReason keeps a refusal's reason, and for an allowed update the version rule that
// allowed it.
func verdictReason(r *CheckReport) Reason {
	if !r.Allowed {
		return r.Reason
	}
	for _, c := range r.Checks {
		if c.Name == CheckVersion {
			return c.Reason
		}
	}
	return ""
}

func checkService(ctx context.Context, opt *Options, in *install.Installation, r *CheckReport) {
	st, err := opt.services(in).Status(ctx)
	if err != nil {
		r.Service = "unknown"
		r.add(CheckItem{Name: CheckService, OK: true, Warning: true, Reason: ReasonServiceUnknown,
			Message: fmt.Sprintf("the service state cannot be read: %v", err)})
		return
	}
	r.Service = string(st)
	msg := "the OMFLOW service is running; the update stops and restarts it"
	if st != svc.Running {
		msg = "the OMFLOW service is stopped; the update starts it"
	}
	r.add(CheckItem{Name: CheckService, OK: true, Message: msg})
}

func checkPackage(p *pkg.Package, r *CheckReport) {
	if p.Legacy != nil {
		from := "the file name"
		if p.Legacy.VersionFile != "" {
			from = p.Legacy.VersionFile
		}
		r.add(CheckItem{Name: CheckPackage, OK: true, Warning: true, Reason: ReasonLegacy,
			Message: fmt.Sprintf("legacy patch %s (patch.sh, version from %s): the whole installation is backed up first", p.Legacy.Display(), from)})
		checkLegacy(p, r)
	} else {
		r.add(CheckItem{Name: CheckPackage, OK: true,
			Message: fmt.Sprintf("OMFLOW update %s: %d files, %d to delete, %s", p.Manifest.Version,
				len(p.Manifest.Files), len(p.Manifest.Delete), HumanBytes(p.Manifest.PayloadSize()))})
	}
	switch p.Signature {
	case pkg.SigRefused:
		// checkTrust says why.
	case pkg.SigVerified:
		r.add(CheckItem{Name: CheckSignature, OK: true, Message: "signed with key " + p.KeyID})
	default:
		// Open refuses these unless unsigned packages were explicitly allowed.
		r.add(CheckItem{Name: CheckSignature, OK: true, Warning: true, Reason: signatureReason(string(p.Signature)),
			Message: fmt.Sprintf("signature %s, accepted because unsigned packages were allowed: %v", p.Signature, p.SignatureErr)})
	}
}

// checkTrust reports what the keys documents say of the package: the release key and
// the document it is trusted through, a policy refusal, or the transition's warning for
// a package signed directly by a release key.
func checkTrust(p *pkg.Package, r *CheckReport) {
	v := p.Trust
	switch {
	case v == nil:
		// unsigned or legacy: the signature check says so
	case v.Refusal != nil:
		r.refuse(CheckItem{Name: CheckTrust, Reason: v.Refusal.Reason, Message: v.Refusal.Error()})
	case v.Doc == nil:
		r.add(CheckItem{Name: CheckTrust, OK: true, Warning: true, Reason: ReasonKeysMissing,
			Message: fmt.Sprintf("the package carries no keys document: it is signed directly by release key %s, as before the keys document; version %s of omflow-upgrade refuses such packages (rebuild it with pack -keys)", p.KeyID, pkg.DirectSignaturesEnd)})
	default:
		d := v.Doc.Doc
		msg := fmt.Sprintf("release key %s, trusted until %s by keys document serial %d (root %s)", v.KeyID, v.Key.NotAfter, d.Serial, trust.KeyID(d.RootKey().ID()))
		if v.Keep {
			msg += "; the installation keeps this newer document when the update is applied"
			if prev, ok := d.PreviousRootKey(); ok {
				msg += fmt.Sprintf(" and trusts root %s instead of %s from then on", trust.KeyID(d.RootKey().ID()), trust.KeyID(prev.ID()))
			}
		}
		r.add(CheckItem{Name: CheckTrust, OK: true, Message: msg})
	}
}

func checkVersion(in *install.Installation, p *pkg.Package, r *CheckReport) {
	upd, err := version.Parse(p.Version())
	if err != nil { // Open validated it; keep the check honest anyway
		r.refuse(CheckItem{Name: CheckVersion, Reason: ReasonBadVersion, Message: err.Error()})
		return
	}
	var from *version.Line
	if p.Manifest != nil && p.Manifest.From != "" {
		l, err := version.ParseLine(p.Manifest.From)
		if err != nil {
			r.refuse(CheckItem{Name: CheckVersion, Reason: ReasonBadVersion, Message: err.Error()})
			return
		}
		from = &l
	}
	v := version.Gate(in.Version, upd, from)
	c := CheckItem{Name: CheckVersion, OK: v.Allowed, Reason: v.Reason}
	if v.Allowed {
		c.Message = fmt.Sprintf("%s -> %s: %s", in.Version, upd, version.Explain(v.Reason))
		r.add(c)
		return
	}
	c.Message = v.Err(in.Version, upd).Error()
	if v.Requires != nil {
		c.Requires = v.Requires.String()
	}
	r.refuse(c)
}

// dryRun lists what the update adds, replaces, deletes, merges and keeps.
func dryRun(in *install.Installation, p *pkg.Package, changes []configChange) []FileAction {
	if p.Manifest == nil {
		return nil
	}
	var out []FileAction
	versionRel := in.Layout.VersionFileRel()
	for _, f := range p.Manifest.Files {
		present := exists(in, f.Path)
		switch {
		case f.Kind == pkg.KindConfig || f.Path == versionRel:
			continue
		case f.Kind == pkg.KindData && present:
			out = append(out, FileAction{Path: f.Path, Action: "keep", Size: f.Size})
		case present:
			out = append(out, FileAction{Path: f.Path, Action: "replace", Size: f.Size})
		default:
			out = append(out, FileAction{Path: f.Path, Action: "add", Size: f.Size})
		}
	}
	for _, d := range p.Manifest.Delete {
		if pkg.DefaultKind(d) == pkg.KindConfig {
			continue
		}
		if size, ok := fileSize(in, d); ok {
			out = append(out, FileAction{Path: d, Action: "delete", Size: size})
		}
	}
	return append(out, configActions(changes)...)
}

// checkConfigs says what the update would do with each config and data file, and
// refuses on a conflict nobody settled.
func checkConfigs(ctx context.Context, opt *Options, in *install.Installation, p *pkg.Package, r *CheckReport) ([]configChange, error) {
	copies, err := p.ReadConfigs(ctx)
	if err != nil {
		return nil, err
	}
	changes, err := decideConfigs(in, p.Manifest, copies.New, copies.Base, opt.ConfigChoice)
	if err != nil {
		return nil, err
	}
	r.Config = append(configResults(changes), keptData(in, p.Manifest)...)
	if err := conflictError(changes); err != nil {
		r.refuse(CheckItem{Name: CheckConfig, Reason: ReasonConfigConflict, Message: err.Error()})
	} else if len(changes) > 0 {
		var parts []string
		for _, c := range changes {
			parts = append(parts, c.path+" "+string(c.d.Result))
		}
		r.add(CheckItem{Name: CheckConfig, OK: true, Message: "config files: " + strings.Join(parts, ", ")})
	}
	return changes, nil
}

// keptData lists the data files an existing installation keeps.
func keptData(in *install.Installation, m *pkg.Manifest) []ConfigResult {
	var out []ConfigResult
	for _, f := range m.Files {
		if f.Kind == pkg.KindData && exists(in, f.Path) {
			out = append(out, ConfigResult{Path: f.Path, Result: "kept"})
		}
	}
	return out
}

// HumanBytes writes n in binary units (KiB, MiB, ...), as the core's messages do.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// checkDatabase says whether the site's database is in the update's backup.
func checkDatabase(opt *Options, in *install.Installation, r *CheckReport) {
	db, err := readDatabase(in)
	switch {
	case err != nil:
		r.add(CheckItem{Name: CheckDatabase, OK: true, Warning: true, Reason: ReasonDatabaseUnknown, Message: err.Error()})
	case db.engine == "":
	case db.sqlite():
		r.add(CheckItem{Name: CheckDatabase, OK: true, Message: fmt.Sprintf("the SQLite database %s goes into the backup with the files", db.path)})
	case opt.DBBackedUp:
		r.add(CheckItem{Name: CheckDatabase, OK: true, Warning: true, Reason: ReasonDatabaseNotBackedUp, Engine: db.engine,
			Message: fmt.Sprintf("the database (%s) is not in the update's backup; you said it is backed up", db.engine)})
	default:
		// Apply refuses it (dbNotBackedUp); check leaves the verdict allowed, as SPEC 5
		// says, and marks the item.
		r.add(CheckItem{Name: CheckDatabase, OK: true, Warning: true, Reason: ReasonDatabaseNotBackedUp, Engine: db.engine,
			NeedsDBBackedUp: true, Message: dbNotBackedUp(db).Error()})
	}
}

// checkSchema tries on a copy of the site's SQLite database what the update does to it
// (SPEC 4.9), in a temporary folder outside the installation: the release's schema, the
// migrations, and the new code's Django set up against the copy.
func checkSchema(ctx context.Context, opt *Options, in *install.Installation, p *pkg.Package, changes []configChange, r *CheckReport) error {
	m := p.Manifest
	db, err := readDatabase(in)
	if err != nil || !db.sqlite() || db.path == "" || !exists(in, db.path) || (m.Schema == "" && !m.TouchesMigrations()) {
		return nil
	}
	work, err := os.MkdirTemp("", "omflow-upgrade-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	dir, err := p.ExtractTemp(ctx, work)
	if err != nil {
		return err
	}
	payload := pkg.PayloadDir(dir)
	deleted := map[string]bool{}
	for _, d := range m.Delete {
		deleted[d] = true
	}
	for _, c := range changes {
		staged := filepath.Join(payload, filepath.FromSlash(c.path))
		if c.d.Content == nil {
			deleted[c.path] = true
			os.Remove(staged)
		} else if err := os.WriteFile(staged, c.d.Content, 0o644); err != nil {
			return err
		}
	}
	pre := &dbPreflight{opt: opt, in: in, work: work, python: in.Python(), report: DatabaseReport{Path: db.path}}
	if m.Schema != "" {
		pre.release = filepath.Join(payload, filepath.FromSlash(m.Schema))
	}
	mv := needsPythonMove(ctx, in, m, opt.logf)
	if mv != nil {
		pre.python = "" // its interpreter is made by apply
	}
	err = pre.run(ctx, abs(in, db.path), func(dst string) error { return layOutProject(in, payload, deleted, dst) })
	var refused *outcome.RefusedError
	switch {
	case errors.As(err, &refused):
		r.refuse(CheckItem{Name: CheckSchema, Reason: refused.Reason, Message: err.Error()})
		return nil
	case err != nil:
		return err
	}
	r.Database = &pre.report
	msg := pre.report.Summary()
	switch {
	case pre.report.Django:
		msg += "; the new release's Django sets up against a copy of it"
	case mv != nil:
		msg += fmt.Sprintf("; apply tries the new release's Django with Python %s once it has made that environment, before the stop", mv.want)
	}
	r.add(CheckItem{Name: CheckSchema, OK: true, Message: msg})
	return nil
}
