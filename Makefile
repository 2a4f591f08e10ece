# Sluice: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go
BIN := bin/sluice

.PHONY: build run test test-race e2e chaos fuzz fuzz-long wirefuzz bench lint verify clean

FUZZTIME ?= 10m
WIREFUZZ ?= 1h
CHAOS ?= 100

build: ; $(GO) build -o $(BIN) ./cmd/sluice
run: build ; ./$(BIN) serve
test: ; scripts/test-deps.sh && $(GO) vet ./... && $(GO) test -race -timeout 20m ./...
test-race: ; $(GO) test -race ./...
e2e: build ; $(GO) test -race -count=1 ./tests/e2e/...
chaos: ; $(GO) test -count=1 -timeout 0 -v -run '^TestFaults$$' ./tests/faults/ -faults.n=$(CHAOS) -faults.oneway
fuzz: ; scripts/fuzz.sh 60s
fuzz-long: ; scripts/fuzz.sh $(FUZZTIME)
wirefuzz: ; $(GO) test -count=1 -timeout 0 -v -run '^TestWireFuzz$$' ./tests/wirefuzz/ -wirefuzz.duration=$(WIREFUZZ)
bench: ; $(GO) test -run '^$$' -bench . -benchmem ./internal/...
lint: ; $(GO) vet ./... && test -z "$$(gofmt -l .)"
verify: lint test
clean: ; rm -rf bin data
