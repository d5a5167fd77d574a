# synack: `make demo` runs the main job, `make test` runs the tests.
# Both install what is missing first (libpcap-dev, via apt-get; through sudo
# when not root).

GO      ?= go
BIN     := ./synack
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FUZZTIME ?= 60s

.PHONY: all deps build cross demo setcap test test-short vet lint fuzz bench open-bench live-bench fixtures clean

all: build

# libpcap's headers and library are needed by cgo (gopacket/pcap and the
# BPF compiler); setcap (libcap2-bin) by make setcap and the test that
# checks capabilities are dropped.
deps:
	@if ! [ -f /usr/include/pcap/pcap.h ] || ! command -v setcap >/dev/null && ! [ -x /usr/sbin/setcap ]; then \
		echo "installing libpcap-dev libcap2-bin"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libpcap-dev libcap2-bin >/dev/null; \
	fi

# -buildvcs=auto: synack version names the commit built (some
# environments set GOFLAGS=-buildvcs=false).
build: deps
	$(GO) build -buildvcs=auto -o $(BIN) .

# Offline binaries: built without cgo, so without libpcap (read and check
# in every format; no live capture, no BPF filters: see the README), for
# each system below, into dist/. No libpcap-dev needed.
CROSS_TARGETS = linux/amd64 linux/arm64 darwin/arm64 windows/amd64
cross:
	@for t in $(CROSS_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; if [ $$os = windows ]; then ext=.exe; fi; \
		out=dist/synack-$$os-$$arch$$ext; echo "build $$out (CGO_ENABLED=0)"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -buildvcs=auto -o $$out . || exit 1; \
	done

# The demo captures on loopback: root or CAP_NET_RAW (see setcap).
demo: build
	$(SUDO) $(BIN) demo

# Let synack capture without sudo.
setcap: build
	$(SUDO) setcap cap_net_raw,cap_net_admin=eip $(BIN)

vet: deps
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }

# staticcheck, at a fixed version (fetched through the Go module proxy
# the first time), after vet and gofmt.
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint: vet
	$(GO) run $(STATICCHECK) ./...

# The quick loop while editing: -short skips the load, soak, flood and
# big-file signal tests (make test runs them).
test-short: deps
	$(GO) test -short ./...

# The tests (TestOfflineBuild compares a build without cgo with this one
# on every fixture), the offline binaries for every system cross builds,
# then a short pass of every fuzz target (7 s each, under 30 s).
test: vet
	$(GO) test ./...
	$(MAKE) --no-print-directory cross
	$(MAKE) --no-print-directory fuzz FUZZTIME=7s

# Every fuzz target for FUZZTIME each (default 60s); crashers land in
# the package's testdata/fuzz and stay there as regression cases. Go's
# fuzzing coordinator can fail a run with a bare "context deadline
# exceeded" as -fuzztime ends on a loaded machine (golang/go#75804): such
# a run, which wrote no failing input, is run once more; any other
# failure fails at once. Go minimizes each new interesting input for up
# to a minute by default, and a worker minimizing does not fuzz: with the
# large seeds of FuzzReaderAndDecoder (whole fixtures), 7-second runs
# found 0 or 1 new inputs, with FUZZMINIMIZE=1s 10 to 12.
FUZZMINIMIZE ?= 1s
FUZZ_TARGETS = ./decode:FuzzPacket ./decode:FuzzReaderAndDecoder ./capture:FuzzReader ./expect:FuzzParse
fuzz: deps
	@log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		for try in 1 2; do \
			echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) >$$log 2>&1; rc=$$?; cat $$log; \
			if [ $$rc = 0 ]; then break; fi; \
			if [ $$try = 1 ] && grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
				echo "fuzz: Go's deadline race at the end of -fuzztime (golang/go#75804), no failing input: once more"; continue; \
			fi; \
			exit 1; \
		done; \
	done

# Decoder benchmarks (ns/op is per packet, allocs/op must be 0 in steady
# state), the whole-file benchmark, then every synack output format beside
# the bare reader, tshark, tcptrace and tcpdump on the generated
# 40,000-connection capture (SIZE=5: 5x larger; ROUNDS=N alternating
# rounds, medians; PEERS=0 without the other tools).
bench: deps
	$(GO) test ./decode -run '^$$' -bench . -benchtime 2s
	$(GO) test ./pipeline -run '^$$' -bench BenchmarkReadSummary -benchtime 5x
	fixtures/bench.sh

# A million connections open at once, under the default cap: peak RSS
# of --summary (fixtures/open-bench.sh; generates a 3.4 GB capture once).
open-bench: deps
	fixtures/open-bench.sh

# The live load test (root: it captures on lo): synack live beside
# tcpdump -w under the same burst of loopback connections.
live-bench: deps
	$(SUDO) env "PATH=$$PATH" fixtures/live-bench.sh

# Rewrite the fixtures: real ones recorded on loopback (needs root, tcpdump,
# dumpcap, curl, python3), synthetic ones built with gopacket.
# tshark's view of each fixture is regenerated when tshark is installed.
fixtures: build
	$(SUDO) fixtures/record.sh
	$(SUDO) fixtures/record-analysis.sh
	$(SUDO) fixtures/record-tunnels.sh
	$(SUDO) fixtures/record-netns.sh
	$(GO) run ./fixtures/synth fixtures
	@if command -v tshark >/dev/null; then cd fixtures && \
		python3 tshark-oracle.py *.pcap *.pcapng && python3 tshark-flags.py *.pcap *.pcapng; \
	else echo "tshark not installed: fixtures/*.oracle.json and *.flags.json left as they are"; fi

clean:
	rm -f $(BIN)
	rm -rf dist
