# p2pcam — run `make` for the list of targets.

GO      ?= go
BIN     := bin/p2pcam
PKGS    := ./...
PREFIX  ?= /usr/local

.DEFAULT_GOAL := help

.PHONY: help deps mediamtx bench-viewers bench-view bench-loss bench-sound-cpu soak soak-hour build install test lint check demo bench fuzz camera-test clean release release-check

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install libvpx-dev, libopus-dev, pkg-config, ffmpeg, libsdl2-2.0-0 for the window tests (apt, as root) or say how
	@./scripts/deps.sh

build: deps ## build bin/p2pcam (run it as ./bin/p2pcam, or make install)
	$(GO) build -o $(BIN) ./cmd/p2pcam
	@echo "built $(BIN): run it as ./$(BIN), or make install to put p2pcam on the PATH"

install: build ## copy bin/p2pcam to /usr/local/bin (PREFIX=~/.local: to ~/.local/bin, no root)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/p2pcam
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "$(PREFIX)/bin is not on your PATH: add it, or run $(PREFIX)/bin/p2pcam";; esac

# -tags nosdl leaves --view's window out, for a fully static build (which
# cannot dlopen SDL2): lint keeps it building.
# The command line, the session and the blob format build and test without
# cgo (no libvpx): the codec reaches them only through capture and measure.
NOCGO   := ./pkg/cli ./pkg/session ./signal

mediamtx: ## build mediamtx (the WHIP/WHEP server the interop tests run) into ~/.cache/p2pcam, once
	@./scripts/mediamtx.sh >/dev/null || echo "mediamtx could not be built (module proxy or npm unreachable); its tests will skip"

# -parallel 4: the namespace fault tests mostly wait out timeouts, so they
# run side by side (t.Parallel) even on two cores.
test: deps mediamtx ## run every test, with the race detector; then the cgo-free packages without cgo
	$(GO) test -race -count=1 -timeout 8m -parallel 4 $(PKGS)
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 3m $(NOCGO)

# macOS, vetted from Linux. cgo runs a C compiler for the target, and a
# darwin one (clang with Apple's SDK) is not here: so go vet runs for darwin
# over every package without cgo, which type-checks every Go file a Mac
# build compiles but the cgo ones (those are vetted natively: none of ours
# is Linux-only). Then, with cgo, go list (it runs no compiler) resolves a
# Mac build's whole import graph, tests included: a Linux-only package
# reached from it fails here. A Linux-only file says so in its build tag
# (or _linux name); a cgo-only one, with the cgo tag.
DARWIN_LIST = GOOS=darwin CGO_ENABLED=1 $(GO) list -e -deps -test -f '{{with .Error}}{{.}}{{"\n"}}{{end}}{{range .DepsErrors}}{{.}}{{"\n"}}{{end}}'

lint: ## gofmt, go vet (also for macOS), and staticcheck when installed (CI installs it)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	GOOS=darwin CGO_ENABLED=0 $(GO) vet $(PKGS)
	@out=$$($(DARWIN_LIST) $(PKGS) | sort -u); if [ -n "$$out" ]; then echo "a macOS build with cgo does not resolve:"; echo "$$out"; exit 1; fi
	CGO_ENABLED=0 $(GO) build $(NOCGO)
	$(GO) vet -tags nosdl ./pkg/view ./cmd/p2pcam
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck $(PKGS); else echo "staticcheck not installed; skipped"; fi

check: lint test ## what CI runs

demo: build ## both peers on this machine, test pattern, a few seconds into demo.webm, then checked
	./scripts/demo.sh

bench: build ## encoder, latency and resource figures in one table
	./scripts/bench.sh

bench-viewers: build mediamtx ## one 640x480 camera to 1, 4 and 16 viewers via mediamtx and --serve: fps per viewer, sender CPU and RSS (~3 min)
	@mkdir -p bin; P2PCAM_VIEWER_FIGURES=1 $(GO) test -count=1 -run TestViewerFigures -v -timeout 15m ./cmd/p2pcam >bin/bench-viewers.log 2>&1; s=$$?; \
	grep -E '^\s+(\||viewers_bench)|^(---|FAIL|ok)' bin/bench-viewers.log; echo "whole log: bin/bench-viewers.log"; exit $$s

soak: build ## p2pcam vs Chromium over tbf 300 kbit/s and 1 Mbit/s and 15% loss in namespaces: rate, delay, freezes, recovery (root, chromium, ~5 min)
	@mkdir -p bin; P2PCAM_SOAK=1 $(GO) test -count=1 -run TestSoak -v -timeout 20m ./cmd/p2pcam >bin/soak.log 2>&1; s=$$?; \
	grep -E '^\s+(\||soak_test)|^(---|FAIL|ok)' bin/soak.log; echo "whole log: bin/soak.log"; exit $$s

# SOAK_MINUTES (default 60) sets the length; samples, heap profiles and the
# summary go to bin/soak-hour.
soak-hour: build ## an hour of --serve with viewers coming and going, and of a 640x480 call: RSS, heap, goroutines, heap profile diff
	@rm -rf bin/soak-hour; mkdir -p bin/soak-hour; m=$${SOAK_MINUTES:-60}; P2PCAM_SOAK_HOUR=1 SOAK_MINUTES=$$m SOAK_OUT=$(CURDIR)/bin/soak-hour \
	$(GO) test -count=1 -run TestSoakHour -v -timeout $$(( $${m%.*} + 30 ))m ./cmd/p2pcam >bin/soak-hour.log 2>&1; s=$$?; \
	cat bin/soak-hour/summary.txt 2>/dev/null; grep -E '^(---|FAIL|ok)|^\s+--- ' bin/soak-hour.log; echo "whole log: bin/soak-hour.log"; exit $$s

bench-view: build ## --view at 640x480 and 1280x720 through Xvfb and a private PulseAudio: first picture, window behind the decoder, mouth to ear (and Chromium's), lip sync, CPU; one table (~5 min)
	@mkdir -p bin; P2PCAM_VIEW_FIGURES=1 $(GO) test -count=1 -run 'TestViewFigures' -v -timeout 15m ./cmd/p2pcam >bin/bench-view.log 2>&1; s=$$?; \
	grep -E '^\s+view_bench_test.go:[0-9]+: \||^(---|FAIL|ok)' bin/bench-view.log; echo "whole log: bin/bench-view.log"; exit $$s

bench-loss: build ## sound under 0/5/15% random loss between namespaces, Opus FEC on and off: concealed and FEC-recovered ms per minute (root, ~8 min; LOSS_SECONDS=60)
	@mkdir -p bin; P2PCAM_LOSS_FIGURES=1 P2PCAM_LOSS_SECONDS=$${LOSS_SECONDS:-60} $(GO) test -count=1 -run TestLossFigures -v -timeout 30m ./cmd/p2pcam >bin/bench-loss.log 2>&1; s=$$?; \
	grep -E '^\s+(\||sound under|loss_bench)|^(---|FAIL|ok)' bin/bench-loss.log; echo "whole log: bin/bench-loss.log"; exit $$s

bench-sound-cpu: build ## the sender's CPU over 20 s calls with and without sound, and with sound alone (~2 min)
	@mkdir -p bin; P2PCAM_SOUND_CPU=1 $(GO) test -count=1 -run TestSoundCPUFigures -v -timeout 10m ./cmd/p2pcam >bin/bench-sound-cpu.log 2>&1; s=$$?; \
	grep -E '^\s+(\||sender CPU)|^(---|FAIL|ok)' bin/bench-sound-cpu.log; echo "whole log: bin/bench-sound-cpu.log"; exit $$s

camera-test: ## the real V4L2 camera path: vivid's virtual camera in a qemu guest (root, ~1 min)
	./scripts/camera-vm/run.sh

fuzz: ## run each fuzz target for a while (FUZZTIME=1m)
	./scripts/fuzz.sh

# Go build tags for release binaries: none, since --view loads SDL at run
# time (the binaries do not link it); RELEASE_TAGS=nosdl leaves the window out.
RELEASE_TAGS ?=

release: ## dist/: tar.gz and .deb for linux amd64 and arm64 (codecs built in), SHA256SUMS; as root it installs the cross tools
	TAGS="$(RELEASE_TAGS)" ./scripts/release.sh

release-check: release ## dist/ in clean Debian roots (arm64 under qemu): libraries, install, calls both ways, arm64 unit tests (root, 10-30 min)
	./scripts/release-check.sh

clean: ## remove build output
	rm -rf bin dist
