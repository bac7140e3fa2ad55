# Atoll — two entry points for a fresh machine: `make demo` and `make test`.
GO      ?= go
BIN     := bin/atoll
TIMEOUT ?= 18m

.PHONY: demo test build deps vet fmtcheck unit fuzz bench clean

## demo: start a local stack (throwaway PostgreSQL + global core) and walk a player through it
demo: deps build
	./$(BIN) dev

## test: everything CI checks
test: deps vet fmtcheck unit fuzz

build:
	$(GO) build -o $(BIN) ./cmd/atoll

deps:
	@bash scripts/install-deps.sh --consul --chromium

vet:
	$(GO) vet ./...

fmtcheck:
	@out="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -count=1 -timeout $(TIMEOUT) ./...

fuzz:
	@FUZZTIME=$${FUZZTIME:-4s} bash scripts/fuzz.sh

## bench: the performance figures quoted in the issue notes
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./internal/tokens/ ./global/identity/

clean:
	rm -rf bin
