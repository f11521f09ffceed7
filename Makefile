# The two README commands: `make demo` and `make test`. Both install their own
# dependencies from Debian packages first (apt-get, idempotent).
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

# packaging/docker/Dockerfile's build stage installs the same list (a ctest test
# compares them). file and dpkg-shlibdeps (build-essential) serve `make package`;
# systemd provides systemd-analyze for the unit file test.
DEB_PACKAGES = build-essential cmake ninja-build pkg-config git ca-certificates curl \
  libcpp-httplib-dev libsqlite3-dev sqlite3 libsqlitecpp-dev libcurl4-openssl-dev libssl-dev \
  libkainjow-mustache-dev libfmt-dev nlohmann-json3-dev libcli11-dev catch2 \
  libtomlplusplus-dev libidn2-dev libsystemd-dev libcsv-dev \
  file systemd
# Needed by tests only, so the Docker build stage (which runs none) leaves them
# out: prometheus provides promtool, which checks the /metrics output (issue #7).
TEST_PACKAGES = prometheus

.PHONY: deps build test test-asan demo bench package clean

deps:
	@missing=$$(for p in $(DEB_PACKAGES) $(TEST_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
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

demo: build
	./examples/demo.sh $(BUILD)

bench: build
	./bench/run.sh $(BUILD)

package: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
