package main

import (
	"encoding/json"

	"omflow-upgrade/upgrade"
)

// mergeJSON encodes report as a JSON object with extra's fields (and error, when err is
// set) added.
func mergeJSON(report any, extra map[string]any, err error) ([]byte, error) {
	b, merr := json.Marshal(report)
	if merr != nil {
		return nil, merr
	}
	var m map[string]any
	if merr := json.Unmarshal(b, &m); merr != nil {
		return nil, merr
	}
	for k, v := range extra {
		m[k] = v
	}
	if err != nil {
		m["error"] = err.Error()
	}
	return json.MarshalIndent(m, "", "  ")
}

// progress is the run's progress display: a bar on stderr when stderr is a terminal and
// the output is not JSON; nothing otherwise.
func (c *cli) progress() upgrade.Progress {
	if c.json || !isTerminal(c.stderr) {
		return upgrade.NoProgress{}
	}
	title := commandTitles[c.name]
	if title == "" {
		title = c.name
	}
	return newTermProgress(c.stderr, title)
}

// emit ends a command that has a report: with -json the report is one object on stdout
// (error and exit added when err is set), else human prints it. The error comes back
// marked as reported: the caller's failure path adds only the message and the log on
// stderr.
func (c *cli) emit(report any, err error, human func()) error {
	if c.json {
		if perr := c.printReport(report, err); perr != nil {
			return perr
		}
	} else {
		human()
	}
	if err != nil {
		return &reported{err}
	}
	return nil
}
