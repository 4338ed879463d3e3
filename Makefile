# OMFLOW Upgrade Wizard. `make run` and `make test` do all the set-up a fresh Debian
# machine needs (scripts/deps.sh installs the Debian packages).
GO      ?= go
BIN     ?= bin
FUZZTIME ?= 10s
CONTRACT ?= ../shared/tools/cli-contract

.PHONY: all build cli wizard fyne-floor wizard-wayland run run-real demo test vet nofyne unit race fuzz contract test-windows bench bench-go bench-wizard deps deps-test clean \
	windows windows-cli windows-wizard windows-bundle windows-sign screenshots install

all: build

deps:
	scripts/deps.sh

deps-test:
	scripts/deps.sh test

build: cli wizard

# The headless command: no cgo, no X or GL libraries.
cli:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/omflow-upgrade ./cmd/omflow-upgrade

# The wizard's build flags: no symbol tables or paths of this machine, and without
# Fyne's colour emoji font (4 MB in the program, parsed again for each text style before
# the first frame; the wizard shows no emoji). docs/DESIGN.md, "Start-up and size".
WIZARD_FLAGS ?= -trimpath -ldflags "-s -w"
WIZARD_TAGS  ?= no_emoji

# The wizard, X11 build (runs under XWayland on Wayland desktops too).
wizard: deps
	@if [ -d cmd/omflow-upgrade-wizard ]; then $(GO) build $(WIZARD_FLAGS) -tags $(WIZARD_TAGS) -o $(BIN)/omflow-upgrade-wizard ./cmd/omflow-upgrade-wizard; fi

# The smallest Fyne program, built as the wizard is: scripts/bench-wizard.sh measures it
# beside the wizard.
fyne-floor: deps
	$(GO) build $(WIZARD_FLAGS) -tags $(WIZARD_TAGS) -o $(BIN)/fyne-floor ./scripts/fyne-floor

# The wizard, native Wayland build (Fyne's wayland tag).
wizard-wayland:
	scripts/deps.sh wayland
	$(GO) build $(WIZARD_FLAGS) -tags wayland,$(WIZARD_TAGS) -o $(BIN)/omflow-upgrade-wizard-wayland ./cmd/omflow-upgrade-wizard

# The README's first command: the upgrade end to end on a demo installation.
run: deps cli
	scripts/run.sh

demo: cli
	scripts/demo.sh

# The same on OMFLOW's own releases under Debian's Django: a real 1.0.0.1 updated to the
# real 1.1.0.0 with its data, then rolled back (../shared/omflow-real, or OMFLOW_REAL).
run-real: cli
	scripts/deps.sh django
	scripts/run-real.sh

# The README's second command, and what CI runs.
test: deps-test vet nofyne race unit fuzz contract test-windows
	@echo "make test: all checks passed"

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

$(BIN)/staticcheck:
	GOBIN=$(abspath $(BIN)) $(GO) install $(STATICCHECK)

vet: $(BIN)/staticcheck
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./upgrade/... ./cmd/omflow-upgrade/
	$(BIN)/staticcheck ./...
	GOOS=windows $(BIN)/staticcheck ./upgrade/... ./cmd/omflow-upgrade/

# The headless command and the core must not pull in Fyne (or cgo).
nofyne:
	@! $(GO) list -deps ./cmd/omflow-upgrade ./upgrade/... | grep -E '^fyne\.io/' || { echo "Fyne in the headless build" >&2; exit 1; }
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/omflow-upgrade

# The core runs its tests once, under the race detector (its real-release and Django tests
# included: a race shows where goroutines meet real work); the rest without it, since
# Fyne's test driver runs fyne.Do inline, which the detector reports as races.
unit: race
	xvfb-run -a $(GO) test -count=1 $$($(GO) list ./... | grep -v '^omflow-upgrade/upgrade')

race:
	$(GO) test -race -count=1 ./upgrade/...

fuzz:
	GO=$(GO) scripts/fuzz.sh FuzzParse ./upgrade/version $(FUZZTIME)
	GO=$(GO) scripts/fuzz.sh FuzzParseManifest ./upgrade/pkg $(FUZZTIME)
	GO=$(GO) scripts/fuzz.sh FuzzOpen ./upgrade/pkg $(FUZZTIME)
	GO=$(GO) scripts/fuzz.sh FuzzOpenTar ./upgrade/pkg $(FUZZTIME)
	GO=$(GO) scripts/fuzz.sh FuzzMerge ./upgrade/merge $(FUZZTIME)
	GO=$(GO) scripts/fuzz.sh FuzzParse ./upgrade/trust $(FUZZTIME)

# SPEC section 5 checked on demo installations (the steering repo's tool, when present).
contract:
	@if [ -x $(CONTRACT) ]; then $(CONTRACT); else echo "skip contract: $(CONTRACT) not found"; fi

# Each figure against its limit, as min / median / max over several runs (issue 19):
# apply and rollback, check, the wizard's first frame, memory and size, and the rest.
bench: cli
	@for s in scripts/bench-*.sh; do [ -x "$$s" ] && { echo "== $$s"; "$$s" || true; }; done

# The core's Go benchmarks (ns/op of one function, not a whole run).
bench-go:
	$(GO) test -run='^$$' -bench=. -benchtime=3x ./upgrade/...

# Windows, cross-built on Linux: the command (CGO_ENABLED=0) and the wizard (cgo with
# mingw-w64), each with its manifest, version resource and icon.
WINBIN  ?= $(BIN)/windows
VERSION ?= 1.0.0.0
windows: windows-cli windows-wizard

windows-cli:
	VERSION=$(VERSION) scripts/windows/build.sh cli $(WINBIN)/omflow-upgrade.exe

windows-wizard:
	VERSION=$(VERSION) scripts/windows/build.sh wizard $(WINBIN)/omflow-upgrade-wizard.exe

# One .exe that carries its update package: make windows-bundle PACKAGE=omflow_update_1_2_0_0.tar.gz
windows-bundle: windows-wizard
	@test -n "$(PACKAGE)" || { echo "give PACKAGE=FILE.tar.gz" >&2; exit 2; }
	$(GO) run scripts/windows/bundle.go -exe $(WINBIN)/omflow-upgrade-wizard.exe -package $(PACKAGE) \
		-out $(WINBIN)/$(patsubst %.tar.gz,%,$(patsubst %.zip,%,$(notdir $(PACKAGE)))).exe

# Authenticode: make windows-sign EXE=... SIGN_CERT=cert.pem SIGN_KEY=key.pem [SIGN_TS=URL]
windows-sign:
	@test -n "$(EXE)" -a -n "$(SIGN_CERT)" -a -n "$(SIGN_KEY)" || { echo "give EXE, SIGN_CERT and SIGN_KEY" >&2; exit 2; }
	scripts/windows/sign.sh -cert $(SIGN_CERT) -key $(SIGN_KEY) $(if $(SIGN_TS),-ts $(SIGN_TS)) $(EXE) $(EXE:.exe=-signed.exe)
	scripts/check-exe.sh -ca $(SIGN_CERT) $(EXE:.exe=-signed.exe)

# The Windows tests under Wine (installs wine64 and mingw-w64); WIZARD=1 also cross-builds,
# bundles, signs and checks the wizard's .exe.
test-windows:
	WIZARD=$${WIZARD:-1} scripts/test-windows.sh

# Every screen in every language, from the software renderer, into docs/screenshots/.
screenshots:
	scripts/screenshots.sh

bench-wizard: wizard
	scripts/bench-wizard.sh

PREFIX ?= /usr/local
install: cli wizard
	install -Dm755 $(BIN)/omflow-upgrade $(DESTDIR)$(PREFIX)/bin/omflow-upgrade
	install -Dm755 $(BIN)/omflow-upgrade-wizard $(DESTDIR)$(PREFIX)/bin/omflow-upgrade-wizard
	install -Dm644 packaging/linux/omflow-upgrade-wizard.desktop $(DESTDIR)$(PREFIX)/share/applications/omflow-upgrade-wizard.desktop
	install -Dm644 assets/icon.png $(DESTDIR)$(PREFIX)/share/icons/hicolor/256x256/apps/omflow-upgrade-wizard.png

clean:
	rm -rf $(BIN)
