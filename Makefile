# The two README commands: `make demo` and `make test`. Both install their own
# dependencies from Debian packages first (apt-get, idempotent).
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

# packaging/docker/Dockerfile's build stage installs the same list (a ctest test
# compares them). file and dpkg-shlibdeps (build-essential) serve `make package`;
# systemd provides systemd-analyze for the unit file test.
DEB_PACKAGES = build-essential cmake ninja-build pkg-config git ca-certificates curl help2man \
  libcpp-httplib-dev libsqlite3-dev sqlite3 libsqlitecpp-dev libcurl4-openssl-dev libssl-dev \
  libkainjow-mustache-dev libfmt-dev nlohmann-json3-dev libcli11-dev catch2 \
  libtomlplusplus-dev libidn2-dev libsystemd-dev libcsv-dev zlib1g-dev libexpat1-dev \
  file systemd
# Needed by tests only, so the Docker build stage (which runs none) leaves them
# out: prometheus provides promtool, which checks the /metrics output (issue #7);
# lintian checks the Debian packages (no errors, no hardening tag) and
# python3-yaml lets the Docker check read compose.yaml (issue #18);
# chromium, chromium-driver and python3-selenium run the dashboard's browser
# test (tests/ui/), never a browser downloaded by a tool.
TEST_PACKAGES = prometheus lintian python3-yaml chromium chromium-driver python3-selenium zsh python3-boto3
# `make demo DEMO_ARGS=--no-wait` ends without waiting for Enter at the dashboard.
# `make demo` only: its webhook receiver (examples/webhook_receiver.py).
DEMO_PACKAGES = python3
# `make fuzz` only: clang and its runtime libraries (libFuzzer, ASan, UBSan).
FUZZ_PACKAGES = clang-14 libclang-rt-14-dev

.PHONY: deps install-packages build test test-asan fuzz demo bench bench-scale package format clean

deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PACKAGES) $(TEST_PACKAGES)"

# Installs the Debian packages of $(PACKAGES) that are missing (idempotent).
install-packages:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	  | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make deps: all Debian packages present"; fi

build: deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DMAILER_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug -DMAILER_WERROR=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

# Every fuzz/ target for $(FUZZ_SECONDS) s each under ASan+UBSan; fails on a crash.
fuzz: deps
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(FUZZ_PACKAGES)"
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DMAILER_FUZZ=ON \
	  -DMAILER_WERROR=OFF -DBUILD_TESTING=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz
	FUZZ_JOBS=$(JOBS) ./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEMO_PACKAGES)"
	./examples/demo.sh $(BUILD) $(DEMO_ARGS)

bench: build
	./bench/run.sh $(BUILD)

# The scale benchmark (docs/PERFORMANCE.md "Scale"): 10 million messages by
# default, which takes hours and ~35 GB of TMPDIR; a smaller run:
#   make bench-scale SCALE_MESSAGES=1000000
# Not part of `make test` (which runs it at 2,000 messages as bench_scale_smoke).
SCALE_MESSAGES ?= 10000000
bench-scale: build
	SCALE_MESSAGES=$(SCALE_MESSAGES) ./bench/scale.sh $(BUILD)

# build/mailerd_<version>_<arch>.deb and build/mailerd-tools_<version>_<arch>.deb
package: build
	cd $(BUILD) && cpack -G DEB

# Rewrites the C++ sources to .clang-format (the vendored CLI11 header aside).
format:
	@$(MAKE) --no-print-directory install-packages PACKAGES="clang-format"
	git ls-files '*.cpp' '*.hpp' ':!src/cli/cli11.hpp' | xargs clang-format -i --style=file

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
