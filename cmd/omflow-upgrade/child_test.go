package main

import (
	"context"
	"os"
	"strconv"
	"strings"
)

// childEnv makes the test binary run the command line itself (childMain), and killEnv
// names the point where that child kills itself: "point" or "point:i".
const (
	childEnv = "OMFLOW_UPGRADE_TEST_CHILD"
	killEnv  = "OMFLOW_UPGRADE_TEST_KILL"
)

// childMain runs the command line when the test binary was started as a child, and
// reports whether it did (it exits then).
func childMain() bool {
	if os.Getenv(childEnv) != "1" {
		return false
	}
	if at := os.Getenv(killEnv); at != "" {
		point, n, _ := strings.Cut(at, ":")
		i, _ := strconv.Atoi(n)
		testHook = func(p string, j int) {
			if p == point && j == i {
				killSelf()
			}
		}
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	return true
}
