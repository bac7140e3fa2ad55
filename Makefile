# Atoll — two entry points for a fresh machine: `make demo` and `make test`.
GO      ?= go
BIN     := bin/atoll
TIMEOUT ?= 18m

.PHONY: demo test build deps vet fmtcheck unit fuzz bench bench-auth clean

## demo: start the whole world (throwaway PostgreSQL, the core and its hub, three regions with cell, relay and
## game servers) with bots playing across it; Ctrl-C stops everything. `BOTS=10 make demo` for more bots.
demo: build
	@bash scripts/install-deps.sh
	./$(BIN) dev --bots $${BOTS:-6}

## test: everything CI checks
test: deps vet fmtcheck unit fuzz

build:
	$(GO) build -o $(BIN) ./cmd/atoll

deps:
	@bash scripts/install-deps.sh --consul --chromium --netns

vet:
	$(GO) vet ./...

fmtcheck:
	@out="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -count=1 -timeout $(TIMEOUT) ./...

fuzz:
	@FUZZTIME=$${FUZZTIME:-4s} bash scripts/fuzz.sh

## bench-auth: /auth/device throughput and latency over HTTP, 32 connections, on a throwaway PostgreSQL
bench-auth:
	bash scripts/bench-auth.sh

## bench: the performance figures quoted in the issue notes
bench: bench-auth
	$(GO) test -run '^$$' -bench . -benchtime 3s ./internal/tokens/ ./global/identity/
	$(GO) test -run '^$$' -bench PurchaseHTTP -benchtime 30000x ./global/economy/
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench MatchmakerPass -benchtime 5x ./cell/matchmaker/
	$(GO) test -run '^$$' -bench Allocate -benchtime 2000x ./cell/fleet/
	$(GO) test -run '^$$' -bench JoinToMatched -benchtime 300x ./cell/
	$(GO) test -run '^$$' -bench Tick64Bots -benchtime 3000x ./gameserver/arena/

clean:
	rm -rf bin
