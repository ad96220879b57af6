# The whole flow; README.md explains it. ARCH is x86_64 or arm64.
ARCH ?= x86_64
OUT = build/out/$(ARCH)

.PHONY: all deps base tree export kernel guest run shell check clean
all: run

deps:
	@sh scripts/deps.sh

base: deps
	@sh scripts/import-base.sh

# build/linux: the base plus patches/series, where the series is edited.
tree: base
	@sh scripts/tree.sh

export:
	@sh scripts/export.sh

build/linux:
	@$(MAKE) --no-print-directory tree

kernel: deps build/linux
	@echo "kernel: building $(ARCH) in $(OUT) (a first build takes a few minutes)"
	@sh scripts/build-kernel.sh $(ARCH)

guest: kernel
	@sh scripts/build-guest.sh $(ARCH)

# Boot the patched kernel and run the guest tests (TESTS="name ..." for some).
run: guest
	@sh scripts/run-guest.sh $(ARCH) $(OUT) $(TESTS)

shell: guest
	@GUEST_SHELL=1 sh scripts/run-guest.sh $(ARCH) $(OUT)

# Every gate, both arches; ends with "N passed, N failed".
check:
	@sh scripts/check.sh

# Benchmarks: ours vs mainline 6.12 vs the unpatched base, in one run
# (README.md, "Benchmarks"). Never fails on a number.
.PHONY: bench bench-deps
bench-deps:
	@sh scripts/bench-deps.sh

bench: deps base build/linux bench-deps
	@sh scripts/bench.sh

clean:
	rm -rf build/out build/logs
