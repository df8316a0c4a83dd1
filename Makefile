# WeWatch — `make run` serves it, `make test` proves it. See README.md for every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
REDIS_PORT ?= 6380
CARGO ?= cargo

# ensure,COMMAND,DEBIAN-PACKAGES: install what is missing with apt-get when root,
# otherwise say exactly what to install.
define ensure
	@if ! command -v $(1) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing $(2)…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "$(1) is missing. Install it with: sudo apt-get install $(2)"; exit 1; \
	  fi; \
	fi
endef

.PHONY: help init deps deps-test redis redis-stop run build cluster cluster-stop bench bench-nodes bench-sync bench-page autobahn test test-rust test-js e2e check fmt clean

help: ## List the targets
	@awk -F':.*## ' '/^[a-z0-9-]+:.*## / { printf "  make %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

deps: ## Install what `make run` needs (redis-server), or say what is missing
	@command -v $(CARGO) >/dev/null || { echo "cargo is missing. Install Rust: https://rustup.rs"; exit 1; }
	$(call ensure,redis-server,redis-server)

# haproxy lives in /usr/sbin, which a user's PATH may lack.
deps-test: export PATH := $(PATH):/usr/local/sbin:/usr/sbin:/sbin
deps-test: deps ## Install what `make test` needs too (chromium, haproxy, node, npm packages of e2e/)
	$(call ensure,chromium,chromium)
	$(call ensure,haproxy,haproxy)
	$(call ensure,node,nodejs)
	$(call ensure,npm,npm)
	@cd e2e && if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund --loglevel=error; fi

init: deps-test build ## Install everything and build once

redis: deps ## Start the local Redis from redis.conf (data in storage/, log in logs/)
	@mkdir -p storage logs
	@if [ -n "$$REDIS_URL" ]; then echo "REDIS_URL is set; not starting a local Redis."; \
	elif redis-cli -p $(REDIS_PORT) ping >/dev/null 2>&1; then echo "Redis already answers on port $(REDIS_PORT)."; \
	else redis-server redis.conf --port $(REDIS_PORT) --dir "$(ROOT)/storage" \
	    --logfile "$(ROOT)/logs/redis.log" --pidfile "$(ROOT)/storage/redis.pid" && \
	  for i in $$(seq 50); do redis-cli -p $(REDIS_PORT) ping >/dev/null 2>&1 && break; sleep 0.1; done && \
	  echo "Redis started on port $(REDIS_PORT) (data in storage/, log in logs/redis.log)."; fi

redis-stop: ## Stop the local Redis (it saves first)
	@redis-cli -p $(REDIS_PORT) shutdown 2>/dev/null && echo "Redis stopped." || echo "Redis was not running."

build: ## Build the server (release)
	$(CARGO) build --release --bin wewatch

# haproxy lives in /usr/sbin, which a user's PATH may lack.
cluster: export PATH := $(PATH):/usr/local/sbin:/usr/sbin:/sbin
cluster: deps build ## Three nodes behind HAProxy on a 3-master Redis Cluster, on loopback (deploy/README.md)
	$(call ensure,haproxy,haproxy)
	deploy/cluster.sh start

cluster-stop: ## Stop what `make cluster` started: the nodes drain, then HAProxy and Redis stop
	deploy/cluster.sh stop

bench: deps ## Load generator: every scenario against a private Redis and the release server (BENCH_ARGS=--help); then bench-nodes
	$(CARGO) build --release --bin wewatch --bin wewatch-load
	./target/release/wewatch-load $(BENCH_ARGS)
	$(MAKE) --no-print-directory bench-nodes

# haproxy lives in /usr/sbin, which a user's PATH may lack.
bench-nodes: export PATH := $(PATH):/usr/local/sbin:/usr/sbin:/sbin
bench-nodes: deps ## Three release nodes behind HAProxy, on Redis and on a Redis Cluster: fan-out, a killed node, a rolling restart (NODES_ARGS=standalone|cluster)
	$(call ensure,haproxy,haproxy)
	$(CARGO) bench --bench nodes -- $(NODES_ARGS)

bench-sync: deps-test ## Sync benchmark: Chromium viewers, delaying proxies, skewed clocks (SYNC_ARGS=--help)
	$(CARGO) build --release --bin wewatch --bin wewatch-delay-proxy
	WEWATCH_BIN=target/release/wewatch WEWATCH_PROXY_BIN=target/release/wewatch-delay-proxy \
	  node e2e/sync/bench.mjs $(SYNC_ARGS)

# The debug build, as the browser tests use: what is measured is the line, not the server.
bench-page: deps-test ## Page weight: a new viewer opens a party on a throttled line, twice (PAGE_ARGS="--kbps 1000 --latency-ms 100")
	$(CARGO) build --bin wewatch
	node e2e/page-weight.mjs $(PAGE_ARGS)

autobahn: deps ## Autobahn|Testsuite against the party socket; not part of `make test` (AUTOBAHN_ARGS=--help)
	$(call ensure,node,nodejs)
	CARGO=$(CARGO) node e2e/autobahn/run.mjs $(AUTOBAHN_ARGS)

run: deps redis build ## Start Redis if needed and serve on the port in server.toml (Ctrl-C stops)
	./target/release/wewatch

test: deps-test ## Every test: Rust unit and integration, browser modules, headless Chromium
	$(MAKE) --no-print-directory test-rust test-js e2e

test-rust: ## Rust unit and integration tests, the API suite on a standalone Redis and on a Redis Cluster
	$(CARGO) test --all-targets
	WEWATCH_TEST_REDIS=cluster $(CARGO) test --test api

test-js: ## Browser modules' unit tests under node --test
	node --test tests/js/

# --all-targets builds the server with the same features as `cargo test`, so after test-rust
# this compiles nothing again.
e2e: ## Browser tests: real server, real Redis, headless Chromium
	$(CARGO) build --all-targets
	node --test e2e/

check: ## Formatting, lints (warnings are errors) and every test
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(MAKE) --no-print-directory test

fmt: ## Format the Rust code
	$(CARGO) fmt --all

clean: ## Remove build output (never storage/)
	$(CARGO) clean
	rm -rf e2e/results
