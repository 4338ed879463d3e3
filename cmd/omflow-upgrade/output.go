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
