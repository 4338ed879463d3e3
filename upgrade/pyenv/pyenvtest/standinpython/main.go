// Command standinpython is the stand-in python.exe of the Windows Python move's tests
// (pyenvtest.StandInPython says what it answers); it is not Python. Cross-built:
//
//	GOOS=windows GOARCH=amd64 go build -o Python311/python.exe ./upgrade/pyenv/pyenvtest/standinpython
package main

import (
	"os"

	"omflow-upgrade/upgrade/pyenv/pyenvtest"
)

func main() { os.Exit(pyenvtest.StandInPython(os.Args[1:], os.Stdout, os.Stderr)) }
