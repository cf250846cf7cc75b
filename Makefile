# eventaudit — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin/eventaudit
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# duckdb_arrow reads DuckDB's Segment layout and pushdown scans through its
# Arrow interface, about 1.7× as fast as database/sql (a raw table's window
# streams either way); every build and test takes it, and CI fails a test
# build without it (warehouse/duckdb TestWindowScanReadsArrow).
# minicore_disabled builds out the Snowflake driver's native library, which
# it would otherwise write to a temporary folder and load at the start of
# every run, and leave there when a run exits first
# (warehouse/snowflake TestBuiltWithoutTheDriversNativeLibrary).
TAGS := -tags duckdb_arrow,minicore_disabled
# GOEXPERIMENT=simd builds in the scanner's 16-byte string scan (Go 1.26's
# simd/archsimd, audit/jsonscan_vector.go): the validation core about 8% faster;
# without it strings are scanned eight bytes a turn, with the same results
# (audit TestBuiltWithTheVectorStringScan fails a CI build without it).
GOEXPERIMENT ?= simd
export GOEXPERIMENT
# The race detector runs where the concurrency lives: the pipeline, the CLI
# that drives it end to end, the pgx backend, and DuckDB's streamed window
# scan (its threads call into Go). The rest of DuckDB's conformance run is
# left out: its cgo engine is opaque to the detector, and the pipeline is
# race-tested over DuckDB through the CLI anyway.
RACE_PKGS := ./audit/... ./cmd/... ./warehouse/postgres/... ./warehouse/snowflake/...
RACE_DUCKDB := 'Stream|WindowScan|ScanFunction'

.PHONY: build demo test bench bench-e2e lint fmt clean release

build:
	$(GO) build $(TAGS) -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/eventaudit

demo: build
	rm -f demo.duckdb demo.duckdb.wal demo.html
	./$(BIN) load --warehouse duckdb://demo.duckdb --table segment_events testdata/demo/events.ndjson
	@echo
	./$(BIN) audit --config testdata/demo/eventaudit.yml --html demo.html; status=$$?; \
	  echo; echo "audit exit status: $$status (1 = over the demo's --fail-on invalid_rate=0.05)"; \
	  test $$status -le 1
	@echo
	./$(BIN) runs --warehouse duckdb://demo.duckdb
	@echo
	@echo "The results are in demo.duckdb, schema eventaudit (tables eventaudit_runs, eventaudit_violations,"
	@echo "eventaudit_event_stats, eventaudit_property_stats). The worst checks, with eventaudit query (or any DuckDB client):"
	./$(BIN) query --warehouse duckdb://demo.duckdb "SELECT event_name, keyword, instance_path, count(*) AS n FROM eventaudit.eventaudit_violations GROUP BY ALL ORDER BY n DESC LIMIT 5"
	@echo
	@echo "The run as a page, with its checks and the SQL behind each: open demo.html in a browser."

test:
	$(GO) vet $(TAGS) ./...
	$(GO) test $(TAGS) -count=1 ./...
	$(GO) test $(TAGS) -count=1 -race $(RACE_PKGS)
	$(GO) test $(TAGS) -count=1 -race -run $(RACE_DUCKDB) ./warehouse/duckdb/
	@if [ -z "$$SNOWFLAKE_ACCOUNT" ]; then echo "note: the live Snowflake conformance test was skipped: SNOWFLAKE_ACCOUNT is not set (README, Snowflake). The in-process endpoint tests ran."; fi

# Go benchmarks of the validation core (fast path and library, 1 and 2
# workers), of its invalid rows alone and of its JSON scanner alone,
# summarised by benchstat.
bench:
	$(GO) test $(TAGS) -run '^$$' -bench ValidationCore -benchmem -count 6 ./schemas/ | tee bench.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest -col /workers bench.txt
	$(GO) test $(TAGS) -run '^$$' -bench InvalidRows -count 6 ./schemas/ | tee bench-invalid.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest bench-invalid.txt
	$(GO) test $(TAGS) -run '^$$' -bench SkipValue -count 6 ./audit/ | tee bench-scan.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest bench-scan.txt
	$(GO) test $(TAGS) -run '^$$' -bench WindowScan -benchtime 10x -count 8 ./warehouse/snowflake/ | tee bench-snowflake.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest -col /read bench-snowflake.txt
	$(GO) test $(TAGS) -run '^$$' -bench Layouts -count 6 ./warehouse/duckdb/ | tee bench-layouts.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest -col /layout bench-layouts.txt
	$(GO) test $(TAGS) -run '^$$' -bench WindowScan -count 6 ./warehouse/duckdb/ | tee bench-duckdb-scan.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest -col /read bench-duckdb-scan.txt

# End to end, in one run: the peers (Python jsonschema, ajv 8) beside the
# validation core on the same events, the raw read limits (DuckDB's sliced
# Arrow scan, Postgres COPY out), 1M rows in DuckDB and Postgres with
# writes, 10M in DuckDB. Medians of 5 alternating runs. Then pushdown off
# and on over 1M rows in Postgres, jsonb and text. Then eventaudit's peak
# RSS on Snowflake (the in-process endpoint, 1M and 3M rows). Needs
# postgresql, GNU time, python3 with jsonschema, node and npm; takes about
# fifteen minutes.
bench-e2e:
	bash testdata/bench/e2e.sh
	N=1000000 bash testdata/bench/pushdown.sh
	$(GO) test $(TAGS) -run '^$$' -bench SnowflakePeakRSS -benchtime 1x -timeout 30m ./cmd/eventaudit/

# A release archive for this machine's OS and architecture: stripped,
# versioned, with the README, and a SHA-256 checksum. DuckDB is C++ linked through cgo, so each
# platform is built on its own runner (or with its C cross-compiler as CC).
RELEASE_OS := $(shell $(GO) env GOOS)
RELEASE_ARCH := $(shell $(GO) env GOARCH)
RELEASE_NAME := eventaudit_$(VERSION)_$(RELEASE_OS)_$(RELEASE_ARCH)
release:
	rm -rf dist/$(RELEASE_NAME) && mkdir -p dist/$(RELEASE_NAME)
	CGO_ENABLED=1 $(GO) build $(TAGS) -trimpath -ldflags '-s -w $(LDFLAGS)' -o dist/$(RELEASE_NAME)/eventaudit ./cmd/eventaudit
	cp README.md dist/$(RELEASE_NAME)/
	tar -C dist -czf dist/$(RELEASE_NAME).tar.gz $(RELEASE_NAME)
	cd dist && sha256sum $(RELEASE_NAME).tar.gz > $(RELEASE_NAME).tar.gz.sha256
	@ls -l dist/$(RELEASE_NAME)/eventaudit dist/$(RELEASE_NAME).tar.gz
	@cat dist/$(RELEASE_NAME).tar.gz.sha256
	./dist/$(RELEASE_NAME)/eventaudit version

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet $(TAGS) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin dist demo.duckdb demo.duckdb.wal bench.txt bench-snowflake.txt bench-layouts.txt bench-duckdb-scan.txt
