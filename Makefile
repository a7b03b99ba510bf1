# meshwork's front door. Every target runs scripts/bootstrap.sh first (quiet when nothing is
# missing), so `make demo` and `make test` work on a fresh Debian 12 machine.
SHELL := /bin/bash
PREFIX ?= /usr/local
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
FUZZ_BUILD_DIR ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30
# Recursive (=) so it is read after the bootstrap recipe has run.
DUCKDB_ROOT_DIR = $(shell scripts/bootstrap.sh --print-duckdb-root)
export CCACHE_DIR ?= $(HOME)/.cache/ccache

# configure(dir, extra cmake args): keeps an existing build dir's generator, else prefers Ninja.
define configure
	@if [[ -f $(1)/CMakeCache.txt ]]; then generator=(); \
	  elif command -v ninja >/dev/null; then generator=(-G Ninja); else generator=(); fi; \
	  cmake -S . -B $(1) "$${generator[@]}" -DDUCKDB_ROOT="$(DUCKDB_ROOT_DIR)" $(2) >/dev/null
endef

.PHONY: all bootstrap build test test-asan bench fuzz format install demo clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	$(call configure,$(BUILD_DIR),)
	@cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS) --timeout 300

test-asan: bootstrap
	$(call configure,$(ASAN_BUILD_DIR),-DCMAKE_BUILD_TYPE=Debug -DMESHWORK_SANITIZE=ON)
	@cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure -j$(JOBS) --timeout 600

bench: bootstrap
	$(call configure,$(BUILD_DIR),-DMESHWORK_BUILD_BENCH=ON)
	@cmake --build $(BUILD_DIR) -j$(JOBS)
	@for b in $(BUILD_DIR)/bench/*_benchmark; do echo "== $$b"; "$$b" || exit 1; done

# libFuzzer targets need clang; each runs FUZZ_SECONDS on its seed corpus.
fuzz: bootstrap
	$(call configure,$(FUZZ_BUILD_DIR),-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMESHWORK_BUILD_FUZZ=ON -DMESHWORK_BUILD_TESTS=OFF)
	@cmake --build $(FUZZ_BUILD_DIR) -j$(JOBS)
	@for f in $(FUZZ_BUILD_DIR)/fuzz/*_fuzz; do name=$$(basename $$f); mkdir -p fuzz/corpus-$$name; \
	  echo "== $$name ($(FUZZ_SECONDS)s)"; \
	  "$$f" -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 fuzz/corpus-$$name fuzz/seeds/$$name || exit 1; done

format: bootstrap
	@git ls-files -co --exclude-standard -- '*.cc' '*.h' | xargs -r clang-format -i

install: build
	@cmake --install $(BUILD_DIR) --prefix "$(PREFIX)"

# The demo mesh (examples/): domains, principals, products deployed, a cross-domain query, then
# the server. Root credential demo:demo-secret; the analysts' credentials are printed.
demo: build
	@$(BUILD_DIR)/meshwork --data-dir .meshwork-demo demo --examples examples \
	  --bootstrap-credentials demo:demo-secret

clean:
	@rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(FUZZ_BUILD_DIR)
