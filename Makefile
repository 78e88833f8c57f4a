# Gooni — two commands: `make run` starts everything on an embedded default, `make test` runs
# every test. Both install what they need (PostgreSQL server binaries) when missing.

GO        ?= go
BIN       := bin
STATICCHECK_VERSION := v0.8.2

.PHONY: run test test-prod build build-dev build-temporal lint vet deps deps-node deps-browser web web-test bench clean check-prod-binary deploy-check

## run: the whole product in one process (embedded Temporal + Web UI, local PostgreSQL, API, workers, CPU runner)
run: deps build-dev
	$(BIN)/gooni-dev dev

## build: the production binary (no Temporal server inside; the web studio embedded)
build: web
	$(GO) build -o $(BIN)/gooni ./cmd/gooni

## build-dev: the dev binary (adds `gooni dev`, which embeds the Temporal server and Web UI)
build-dev: web
	$(GO) build -tags dev -o $(BIN)/gooni-dev ./cmd/gooni

## test: vet, then every test (unit, workflow, integration against real PostgreSQL and Temporal)
test: deps deps-browser web vet check-prod-binary web-test
	GOONI_BROWSER_TESTS=required $(GO) test -race -count=1 -timeout 45m ./...
	@if command -v python3 >/dev/null 2>&1; then \
		echo "python3 -m unittest discover -s runners/diffusers/tests (diffusers runner, stand-in pipelines)"; \
		python3 -m unittest discover -s runners/diffusers/tests; \
	else \
		echo "SKIP diffusers runner tests: python3 is not installed"; \
	fi

## test-prod: the production topology on loopback, every part its own process: gooni-temporal on
## PostgreSQL, two APIs, a control worker, two GPU workers (one stopped, one killed mid-run)
test-prod: deps
	$(GO) test -tags prodtest -count=1 -timeout 6m -v ./prodtest/

## build-temporal: the standalone Temporal server on PostgreSQL (links the Temporal server)
build-temporal:
	$(GO) build -o $(BIN)/gooni-temporal ./cmd/gooni-temporal

vet:
	$(GO) vet ./...
	$(GO) vet -tags dev ./cmd/...
	$(GO) vet -tags prodtest ./prodtest/

## bench: build bin/gooni-bench and run it: a whole stack in-process on loopback, measured against
## a bare Temporal workflow in the same run (prints `BENCH <name> <value> <unit>`; see bench/README.md)
bench: deps
	$(GO) build -o $(BIN)/gooni-bench ./bench/cmd/gooni-bench
	$(BIN)/gooni-bench -log $(BIN)/gooni-bench.log $(BENCHFLAGS)
	$(GO) run ./bench/gallery

## lint: vet plus staticcheck
lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## deploy-check: validate docker-compose.yml (docker-compose from Debian) and lint the Dockerfiles
## (hadolint when installed); no Docker engine is needed or used
deploy-check:
	@if ! command -v docker-compose >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing docker-compose (apt-get install docker-compose) to validate the compose file"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; \
		else \
			echo "docker-compose is missing: run 'sudo apt-get install docker-compose'"; exit 1; \
		fi; \
	fi
	API_KEY=$$(printf 'x%.0s' $$(seq 32)) POSTGRES_PASSWORD=check docker-compose -f docker-compose.yml config -q
	API_KEY=$$(printf 'x%.0s' $$(seq 32)) POSTGRES_PASSWORD=check docker-compose -f docker-compose.yml --profile cpu --profile gpu config -q
	@if command -v hadolint >/dev/null 2>&1; then hadolint deploy/Dockerfile deploy/gpu-worker.Dockerfile deploy/temporal.Dockerfile; \
	else echo "SKIP Dockerfile lint: hadolint is not installed (not in Debian's archive)"; fi

## check-prod-binary: fail when the production binary links the Temporal server
check-prod-binary:
	@if $(GO) list -deps ./cmd/gooni | grep -q '^go.temporal.io/server'; then \
		echo "the production binary links go.temporal.io/server: only the dev build (-tags dev) may"; exit 1; fi

## deps: install the PostgreSQL server binaries (when DATABASE_URL is unset) and ffmpeg when missing
deps:
	@if [ -z "$$DATABASE_URL" ] && ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing PostgreSQL server binaries (apt-get install postgresql)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else \
			echo "PostgreSQL server binaries are missing: run 'sudo apt-get install postgresql', or set DATABASE_URL"; exit 1; \
		fi; \
	fi
	@if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing ffmpeg (apt-get install ffmpeg): the CPU runner encodes videos with it"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
		else \
			echo "ffmpeg is missing (the CPU runner encodes videos with it, the tests probe them with ffprobe): run 'sudo apt-get install ffmpeg'"; exit 1; \
		fi; \
	fi

## web: build the studio bundle (web/dist, embedded in the binaries) when its sources changed
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/package.json
web: web/dist/index.html

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web/node_modules/.package-lock.json: web/package-lock.json | deps-node
	cd web && npm ci --no-audit --no-fund

## web-test: type-check and unit-test the studio's logic (Vitest, against the real settings file)
web-test: web/node_modules/.package-lock.json
	cd web && npm run typecheck && npm test

## deps-node: Node.js and npm build the studio
deps-node:
	@if ! command -v npm >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Node.js and npm (apt-get install nodejs npm): they build the web studio"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
		else \
			echo "npm is missing (it builds the web studio): run 'sudo apt-get install nodejs npm'"; exit 1; \
		fi; \
	fi

## deps-browser: Debian's Chromium, which the browser tests drive with playwright-core, and a
## colour emoji font (the catalogue's labels use emoji; screenshots should show them)
deps-browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Chromium and fonts-noto-color-emoji (apt-get): the studio's browser tests drive it"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
		else \
			echo "chromium is missing (the studio's browser tests drive it): run 'sudo apt-get install chromium fonts-noto-color-emoji'"; exit 1; \
		fi; \
	fi

clean:
	rm -rf $(BIN) web/dist/assets web/dist/index.html
