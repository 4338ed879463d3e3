package pyenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"

	"omflow-upgrade/upgrade/outcome"
)

// InstallOptions tune Install.
type InstallOptions struct {
	// FindLinks is a folder of wheels (and sdists) to install from offline
	// (--no-index --find-links); "" installs from the package index.
	FindLinks string
	// Requirements is where the requirements.txt (one "name==version" a line) is
	// written and kept; "" writes it to a temporary file removed afterwards.
	Requirements string
	// Unpinned installs by name only, for a wheel folder made for the new Python with
	// newer versions than the old environment had.
	Unpinned bool
	// PipArgs are added to every pip install (e.g. "--proxy", URL).
	PipArgs []string
	// Logf receives each line pip prints and what Install decides.
	Logf func(format string, args ...any)
}

func (o InstallOptions) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// Failure is a package still missing after Install, with pip's reason.
type Failure struct {
	Package
	Reason string `json:"reason"`
}

// InstallResult is what Install did.
type InstallResult struct {
	// Requirements is the requirements.txt pip was given (gone when it was a temporary
	// file).
	Requirements string `json:"requirements"`
	// Installed are the requested packages present after the install.
	Installed []Package `json:"installed"`
	// Failed are the requested packages still missing after the install, with the reason
	// pip gave for each (its ERROR line), or a general one when pip named none.
	Failed []Failure `json:"failed"`
}

// ReasonPipMissing is the refusal reason of a new Python without pip.
const ReasonPipMissing outcome.Reason = "python-pip-missing"

// ErrInstallFailed is wrapped by Install's error when a package is still missing after
// installing.
var ErrInstallFailed = errors.New("python packages still missing after pip install")

// Install installs pkgs into python's environment with its own pip (`python -m pip
// install -r requirements.txt`), then reads the environment again and reports each
// package still missing with pip's reason. pip installs a requirements file all or
// nothing, so a package pip names as failing is set aside and the rest installed again; a
// failure pip does not attribute is retried package by package. The error wraps
// ErrInstallFailed when something is still missing; the result says what.
func Install(ctx context.Context, python string, pkgs []Package, opts InstallOptions) (InstallResult, error) {
	res := InstallResult{Installed: []Package{}, Failed: []Failure{}}
	if len(pkgs) == 0 {
		return res, nil
	}
	if err := CheckPackages(pkgs); err != nil {
		return res, fmt.Errorf("install python packages into %q: %w", python, err)
	}
	reqs := make([]string, len(pkgs))
	for i, p := range pkgs {
		reqs[i] = p.Requirement()
		if opts.Unpinned {
			reqs[i] = p.Name
		}
	}
	reqFile := opts.Requirements
	if reqFile == "" {
		f, err := os.CreateTemp("", "omflow-requirements-*.txt")
		if err != nil {
			return res, fmt.Errorf("install python packages: %w", err)
		}
		f.Close()
		reqFile = f.Name()
		defer os.Remove(reqFile)
	}
	res.Requirements = reqFile
	if err := os.WriteFile(reqFile, []byte(strings.Join(reqs, "\n")+"\n"), 0o644); err != nil {
		return res, fmt.Errorf("write requirements %q: %w", reqFile, err)
	}

	reasons := map[string]string{} // normalised name -> pip's reason
	pending := append([]string{}, reqs...)
	file := reqFile // the first run uses the file as written; retries pass names
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("install python packages into %q: %w", python, err)
		}
		out, err := runPip(ctx, python, file, pending, opts)
		file = ""
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("install python packages into %q: %w", python, ctx.Err())
		}
		if isNoPip(out) {
			return res, &outcome.RefusedError{Reason: ReasonPipMissing, Err: fmt.Errorf(
				"install python packages into %q: this python has no pip (run `%s -m ensurepip`, or install python3-pip; on Windows, tick pip in the Python installer): %w", python, python, err)}
		}
		failed := parsePipFailures(out, pending)
		if len(failed) == 0 {
			// pip named no package: find the culprits one by one.
			if len(pending) > 1 {
				for _, req := range pending {
					out, err := runPip(ctx, python, "", []string{req}, opts)
					if err != nil {
						reasons[NormalizeName(RequirementName(req))] = lastError(out, err)
					}
				}
			} else {
				reasons[NormalizeName(RequirementName(pending[0]))] = lastError(out, err)
			}
			break
		}
		var rest []string
		for _, req := range pending {
			key := NormalizeName(RequirementName(req))
			if r, ok := failed[key]; ok {
				reasons[key] = r
				opts.logf("pip could not install %s: %s", req, r)
				continue
			}
			rest = append(rest, req)
		}
		pending = rest
	}

	env, err := Open(ctx, python, Options{Logf: opts.Logf})
	if err != nil {
		return res, fmt.Errorf("re-check python packages after install: %w", err)
	}
	for _, p := range pkgs {
		key := NormalizeName(RequirementName(p.Name)) // p.Name may be a requirement: "django==4.2"
		if d, ok := env.Lookup(key); ok {
			res.Installed = append(res.Installed, Package{Name: d.Name, Version: d.Version})
			continue
		}
		reason := reasons[key]
		if reason == "" {
			reason = "not installed although pip reported success"
		}
		res.Failed = append(res.Failed, Failure{Package: p, Reason: reason})
	}
	if len(res.Failed) > 0 {
		names := make([]string, len(res.Failed))
		for i, f := range res.Failed {
			names[i] = f.Name
		}
		return res, fmt.Errorf("install python packages into %q: %s: %w", python, strings.Join(names, ", "), ErrInstallFailed)
	}
	return res, nil
}

// runPip runs one pip install, of a requirements file or of reqs, and returns its output.
func runPip(ctx context.Context, python, reqFile string, reqs []string, opts InstallOptions) (string, error) {
	args := []string{"-m", "pip", "install", "--disable-pip-version-check", "--no-input"}
	if opts.FindLinks != "" {
		args = append(args, "--no-index", "--find-links", opts.FindLinks)
	}
	args = append(args, opts.PipArgs...)
	if reqFile != "" {
		args = append(args, "-r", reqFile)
	} else {
		args = append(append(args, "--"), reqs...) // a name is never an option
	}
	opts.logf("run %s %s", python, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1")
	var out bytes.Buffer
	w := &lineLogger{logf: opts.logf, buf: &out}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	w.flush()
	return out.String(), err
}

// lineLogger keeps pip's output and passes it on line by line.
type lineLogger struct {
	mu      sync.Mutex
	logf    func(string, ...any)
	buf     *bytes.Buffer
	partial []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.logf("pip: %s", strings.TrimRight(string(l.partial[:i]), "\r"))
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	if len(l.partial) > 0 {
		l.logf("pip: %s", l.partial)
		l.partial = nil
	}
}

var _ io.Writer = (*lineLogger)(nil)

func isNoPip(out string) bool {
	return strings.Contains(out, "No module named pip")
}

// Lines of pip's output that name the requirement that failed.
var pipFailurePatterns = []*regexp.Regexp{
	regexp.MustCompile(`Could not find a version that satisfies the requirement (\S+)(.*)`),
	regexp.MustCompile(`No matching distribution found for (\S+)(.*)`),
	regexp.MustCompile(`Failed building wheel for (\S+)(.*)`),
	regexp.MustCompile(`Failed to build (\S+)(.*)`),
	regexp.MustCompile(`Could not build wheels for (\S+?),?( .*)`),
	regexp.MustCompile(`Package '([^']+)' requires a different Python(.*)`),
	cannotInstall,
}

// cannotInstall is pip's resolver conflict, naming several requirements.
var cannotInstall = regexp.MustCompile(`Cannot install (\S+?),? (.*)`)

// fromPattern finds "(from foo==1.0)" or "(from -r file (line 2))": who wanted a dependency.
var fromPattern = regexp.MustCompile(`\(from ([^ ,()]+)`)

// parsePipFailures reads pip's output and returns, per normalised name among pending,
// the first ERROR line about it. A dependency that failed ("bar (from foo==1.0)") is
// charged to the pending package that wanted it.
func parsePipFailures(out string, pending []string) map[string]string {
	want := map[string]bool{}
	for _, req := range pending {
		want[NormalizeName(RequirementName(req))] = true
	}
	failed := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "ERROR:") && !strings.Contains(line, "Failed building wheel") {
			continue
		}
		reason := strings.TrimSpace(strings.TrimPrefix(line, "ERROR:"))
		for _, re := range pipFailurePatterns {
			m := re.FindStringSubmatch(reason)
			if m == nil {
				continue
			}
			var names []string
			if re == cannotInstall { // "Cannot install a==1, b and c==2 because ..."
				list, _, _ := strings.Cut(m[1]+" "+m[2], " because")
				for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
					if f != "and" {
						names = append(names, f)
					}
				}
			} else {
				names = []string{m[1]}
			}
			for _, n := range names {
				key := NormalizeName(RequirementName(n))
				if !want[key] {
					if fm := fromPattern.FindStringSubmatch(m[2]); fm != nil {
						key = NormalizeName(RequirementName(fm[1]))
					}
				}
				if want[key] {
					if _, seen := failed[key]; !seen {
						failed[key] = reason
					}
				}
			}
			break
		}
	}
	return failed
}

// lastError is the last ERROR line of pip's output, or err.
func lastError(out string, err error) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "ERROR:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "ERROR:"))
		}
	}
	return err.Error()
}

// sortPackages orders pkgs by normalised name.
func sortPackages(pkgs []Package) {
	sort.Slice(pkgs, func(i, j int) bool { return NormalizeName(pkgs[i].Name) < NormalizeName(pkgs[j].Name) })
}
