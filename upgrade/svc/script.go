package svc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// Script manages the service through OMFLOW's Linux control script
// (server/omflow_server {status|start|stop}): status exits 0 while the service runs.
type Script struct {
	Argv []string  // the control command; the action is appended
	Dir  string    // working directory
	Out  io.Writer // receives the script's output (the run log); may be nil
}

var _ Manager = (*Script)(nil)

// Status runs "status": exit 0 is running, any other exit is stopped.
func (s *Script) Status(ctx context.Context) (State, error) {
	err := s.run(ctx, "status")
	var exit *exec.ExitError
	switch {
	case err == nil:
		return Running, nil
	case errors.As(err, &exit):
		return Stopped, nil
	default:
		return "", err
	}
}

// Start runs "start" and then checks that status says running.
func (s *Script) Start(ctx context.Context) error {
	if err := s.run(ctx, "start"); err != nil {
		return err
	}
	return s.expect(ctx, Running, "start")
}

// Stop runs "stop" and then waits until status says stopped.
func (s *Script) Stop(ctx context.Context) error {
	if err := s.run(ctx, "stop"); err != nil {
		return err
	}
	return s.expect(ctx, Stopped, "stop")
}

// expect polls status until it reports want or ctx ends: a control script may return
// before the service has finished starting or stopping.
func (s *Script) expect(ctx context.Context, want State, action string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := s.Status(ctx)
		if err != nil {
			return err
		}
		if st == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: the service is still %s: %w", s.name(), action, st, ctx.Err())
		case <-tick.C:
		}
	}
}

func (s *Script) name() string {
	if len(s.Argv) == 0 {
		return "control script"
	}
	return s.Argv[0]
}

func (s *Script) run(ctx context.Context, action string) error {
	if len(s.Argv) == 0 {
		return fmt.Errorf("no control script configured")
	}
	argv := append(append([]string(nil), s.Argv...), action)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A started service inherits the pipes; do not wait for it to close them.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if s.Out != nil && out.Len() > 0 {
		fmt.Fprintf(s.Out, "%s %s: %s\n", s.name(), action, strings.TrimSpace(out.String()))
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if action == "status" {
				return err
			}
			msg := strings.TrimSpace(out.String())
			if msg == "" {
				msg = exit.String()
			}
			return fmt.Errorf("%s %s failed: %s: %w", s.name(), action, msg, err)
		}
		return fmt.Errorf("%s %s: %w", s.name(), action, err)
	}
	return nil
}

// CheckHealth fetches url until it answers 200 or ctx ends. OMFLOW has no health
// endpoint; its login page answering 200 is its sign of life.
func CheckHealth(ctx context.Context, url string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("health URL %q: %w", url, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("answered %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("health check of %s: %w", url, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
