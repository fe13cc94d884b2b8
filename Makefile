# OpenWatch build, generation and test entry points. `make run` and `make test` do all the
# set-up a fresh machine needs.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/openwatch
VERSION ?= $(shell git describe --tags --exact-match 2>/dev/null | sed "s/^v//" || true)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_TIME ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w $(if $(VERSION),-X github.com/openwatch/openwatch/internal/buildinfo.Version=$(VERSION)) \
	-X github.com/openwatch/openwatch/internal/buildinfo.Commit=$(COMMIT) \
	-X github.com/openwatch/openwatch/internal/buildinfo.BuildTime=$(BUILD_TIME)

# make run: a local data directory unless the environment names one.
export OPENWATCH_SERVER_DATA_DIR ?= $(CURDIR)/.data

.PHONY: package all generate generate-check web web-deps build run test test-go test-web test-e2e vet fmt lint lint-spec bench bench-micro deps test-deps clean

all: build

## generate: regenerate everything derived from api/openapi.yaml and db/ (committed).
generate: web-deps
	$(GO) run ./scripts/bundle
	$(GO) tool oapi-codegen -config oapi-codegen.yaml gen/api/openapi.yaml
	$(GO) tool oapi-codegen -config scripts/oapi-codegen-client.yaml gen/api/openapi.yaml
	$(GO) tool sqlc generate
	$(GO) tool sqlc vet
	cd web && npm run --silent gen:api

## generate-check: fail when the committed generated code is stale.
generate-check: generate
	@if ! git diff --exit-code --stat -- gen web/src/api web/client/src/schema.d.ts; then \
		echo "generated code is stale: run 'make generate' and commit the result" >&2; exit 1; fi
	@untracked=$$(git ls-files --others --exclude-standard -- gen web/src/api web/client/src); \
	if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked" >&2; exit 1; fi

web-deps:
	@if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then \
		cd web && npm ci --no-audit --no-fund --loglevel=error; fi

## web: build the React app into web/dist (embedded by the Go build).
web: web-deps
	cd web && npm run --silent build

## build: the openwatch binary with the web UI embedded.
build: web
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/openwatch

## package: the .deb and .rpm packages under dist/ (nfpm, packaging/nfpm.yaml), for each of
## PACKAGE_ARCHS (amd64 by default; "amd64 arm64" cross-builds the arm64 binary too). The
## version is VERSION, else the one the binary reports.
PACKAGE_ARCHS ?= amd64
package: build
	@version="$(VERSION)"; [ -n "$$version" ] || version=$$(./$(BIN) version | sed -n '1s/^openwatch //p'); \
	for arch in $(PACKAGE_ARCHS); do \
		bin=$(BIN); \
		if [ "$$arch" != "$$($(GO) env GOARCH)" ]; then \
			bin=bin/openwatch-linux-$$arch; \
			CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$bin ./cmd/openwatch; \
		fi; \
		$(GO) run ./scripts/package --binary $$bin --arch $$arch --version "$$version" --out dist; \
	done

## run: build and start the server on its embedded default (a managed local PostgreSQL).
run: deps build
	./$(BIN) serve

## deps: install the PostgreSQL server binaries the managed database needs (as root, via apt).
deps:
	bash scripts/install-postgres.sh

## test-deps: also install what the tests need (Chromium, curl).
test-deps: deps
	bash scripts/install-deps.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '^gen/')

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out" >&2; exit 1; fi

## lint-spec: the served (bundled) API document passes Redocly's recommended rules with no
## error and no warning, so SDK generators and conformance tools read it as we mean it.
lint-spec: web-deps
	cd web && npm run --silent lint:spec

## test: everything, on a throwaway PostgreSQL: vet, the API document's lint, Go tests with -race, web unit tests, UI end-to-end.
test: test-deps web-deps lint lint-spec test-go test-web test-e2e

test-go:
	$(GO) run ./scripts/withpg -- $(GO) test -race -count=1 ./...

test-web: web-deps
	cd web && npm test --silent

test-e2e: build
	bash scripts/e2e.sh

## bench: the figures of the closing notes, on the managed database with durability on and
## default logging, beside a bare TLS server measured in the same run (two runs).
bench: deps build
	bash scripts/bench.sh

## bench-micro: micro-benchmarks of the request pipeline (figures, never pass/fail).
bench-micro:
	$(GO) run ./scripts/withpg -- $(GO) test -run '^$$' -bench . -benchmem ./internal/httpserver/ ./internal/auth/

clean:
	rm -rf bin dist web/dist/assets web/dist/swagger web/dist/index.html
