# OMFLOW Upgrade Wizard. `make run` and `make test` do all the set-up a fresh Debian
# machine needs (scripts/deps.sh installs the Debian packages).
GO      ?= go
BIN     ?= bin
FUZZTIME ?= 10s
CONTRACT ?= ../shared/tools/cli-contract

.PHONY: all build cli wizard wizard-wayland run demo test vet nofyne unit fuzz contract test-windows bench deps deps-test clean

all: build

deps:
	scripts/deps.sh

deps-test:
	scripts/deps.sh test

build: cli wizard

# The headless command: no cgo, no X or GL libraries.
cli:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/omflow-upgrade ./cmd/omflow-upgrade

# The wizard, X11 build (runs under XWayland on Wayland desktops too).
wizard: deps
	@if [ -d cmd/omflow-upgrade-wizard ]; then $(GO) build -o $(BIN)/omflow-upgrade-wizard ./cmd/omflow-upgrade-wizard; fi

# The wizard, native Wayland build (Fyne's wayland tag).
wizard-wayland: deps
	$(GO) build -tags wayland -o $(BIN)/omflow-upgrade-wizard-wayland ./cmd/omflow-upgrade-wizard

# The README's first command: the upgrade end to end on a demo installation.
run: deps cli
	scripts/run.sh

demo: cli
	scripts/demo.sh

# The README's second command, and what CI runs.
test: deps-test vet nofyne unit fuzz contract
	@echo "make test: all checks passed"

vet:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./upgrade/... ./cmd/omflow-upgrade/

# The headless command and the core must not pull in Fyne (or cgo).
nofyne:
	@! $(GO) list -deps ./cmd/omflow-upgrade ./upgrade/... | grep -E '^fyne\.io/' || { echo "Fyne in the headless build" >&2; exit 1; }
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/omflow-upgrade

unit:
	xvfb-run -a $(GO) test -count=1 ./...

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./upgrade/version
	$(GO) test -run='^$$' -fuzz='^FuzzParseManifest$$' -fuzztime=$(FUZZTIME) ./upgrade/pkg

# SPEC section 5 checked on demo installations (the steering repo's tool, when present).
contract:
	@if [ -x $(CONTRACT) ]; then $(CONTRACT); else echo "skip contract: $(CONTRACT) not found"; fi

bench: cli
	$(GO) test -run='^$$' -bench=. -benchtime=3x ./upgrade/...
	@for s in scripts/bench-*.sh; do [ -x "$$s" ] && "$$s" || true; done

clean:
	rm -rf $(BIN)
