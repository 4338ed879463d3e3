package main

import "os"

// killSelf ends the process at once; on Windows TerminateProcess is what kill -9 is.
func killSelf() {
	p, _ := os.FindProcess(os.Getpid())
	p.Kill()
	select {}
}
