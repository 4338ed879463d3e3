// Command omflow-upgrade is the headless OMFLOW upgrade: check, apply, roll back and
// recover updates, report status, compare Python environments, build and sign packages,
// and make demo installations. It runs on servers without X or GL libraries
// (CGO_ENABLED=0). Its flags, JSON fields and exit codes are a contract (SPEC section 5).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"omflow-upgrade/upgrade/demo"
)

func main() {
	if demo.Main(os.Args) {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
