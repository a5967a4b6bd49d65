# syndrop — `make` installs and builds everything; `make test`, `make demo`, `make bench`.
SHELL := /bin/bash
NODE_MODULES := node_modules/.package-lock.json
ADDON := native/build/Release/syndrop_tun.node
DIST := dist/cli/main.js

.PHONY: all build test check-layers test-unit test-integration demo bench fuzz soak flood-memory install clean lab-down

all: build

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(ADDON): native/tun.cc native/tun-batch.cc native/tun-batch.h native/tun-ring.cc native/tun-ring.h native/alarm.cc native/alarm.h native/system-error.h native/polled-fd.h native/binding.gyp $(NODE_MODULES)
	@test -e /usr/include/liburing.h || { echo "native/ needs liburing's headers: apt-get install liburing-dev" >&2; exit 1; }
	npx node-gyp rebuild --directory native

$(DIST): $(NODE_MODULES) $(shell find src -name '*.ts') tsconfig.json
	npx tsc -p tsconfig.json

include bench/Makefile.inc
include guest/Makefile.inc

build: $(NODE_MODULES) $(ADDON) $(DIST) bench-tools guest-tools

# Layer rules (.dependency-cruiser.cjs: wire, stack, profiles, offline engines, no runtime
# cycle, src never reaches test/) and source rules (<= 450 lines, no path test/ in src/).
check-layers: $(NODE_MODULES)
	npm run --silent check:layers

# The whole suite: the layer check, then unit, property, integration (real namespaces, TUN, curl, hping3).
test: build check-layers
	@status=0; npx vitest run --reporter=default --reporter=json --outputFile=.vitest-report.json || status=$$?; \
	node scripts/test-summary.mjs .vitest-report.json; exit $$status

test-unit: build
	npx vitest run test/unit test/fuzz

test-integration: build
	npx vitest run test/integration

# Lab up, the kernel matrix (3.10 vs 6.x) with real clients, every drop story shown, lab down.
demo: build
	./scripts/demo.sh

bench: build
	node dist/tools/bench.js

fuzz: build
	node dist/tools/fuzz.js

soak: build
	node dist/tools/soak.js

# 60 s bounded spoofed-SYN flood with cookies on, then off: RSS curve, queue bound, curls.
flood-memory: build
	node dist/tools/flood-memory.js

install: build
	npm link

lab-down:
	./bin/syndrop lab down

clean:
	rm -rf dist native/build
