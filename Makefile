# The whole flow; README.md explains it. ARCH is x86_64 or arm64.
ARCH ?= x86_64
OUT = build/out/$(ARCH)

.PHONY: all deps base tree export kernel guest run shell check clean fuzz stress vmtests
all: run

STEP = sh scripts/step.sh

# The packages of ARCH's build and guest; make check and make matrix add the
# rest (scripts/deps.sh says what each set holds).
deps:
	@$(STEP) deps "installing the Debian packages the $(ARCH) build needs (first time: minutes)" \
		sh scripts/deps.sh $(ARCH)

base: deps
	@$(STEP) base "importing the pinned Linux 6.1 source as build/base" sh scripts/import-base.sh

# build/linux: the base plus patches/series, where the series is edited.
tree: base
	@$(STEP) tree "applying patches/series on the base in build/linux" sh scripts/tree.sh

export:
	@sh scripts/export.sh

# What builds uses build/linux made (anew) from patches/ when missing or
# older than patches/ (a git pull), or as it is when it holds unexported work.
.PHONY: build/linux
build/linux: base
	@sh scripts/tree.sh update

kernel: deps build/linux
	@PROGRESS_OBJS=$(OUT) $(STEP) kernel \
		"building the $(ARCH) kernel in $(OUT) (a first build takes a few minutes)" \
		sh scripts/build-kernel.sh $(ARCH)

guest: kernel
	@$(STEP) guest "building the static tests, tools/vm/pagescan and the demo into an initramfs" \
		sh scripts/build-guest.sh $(ARCH)

# Boot the patched kernel and run the pagescan demo, or the guest tests
# named in TESTS="name ..." (TESTS=all: every test).
run: guest
ifeq ($(TESTS),)
	@echo "run: booting $(ARCH) under QEMU (TCG) for the pagescan demo (about a minute)"
	@DEMO=1 NAME=$(ARCH)-demo sh scripts/run-guest.sh $(ARCH) $(OUT)
else
	@sh scripts/run-guest.sh $(ARCH) $(OUT) $(filter-out all,$(TESTS))
endif

shell: guest
	@GUEST_SHELL=1 sh scripts/run-guest.sh $(ARCH) $(OUT)

# Every gate, both arches; ends with "N passed, N failed".
check:
	@sh scripts/check.sh

# Long robustness runs on the debug kernel (VARIANT=x86_64 for the plain one):
# make fuzz SEED=n ITER=n, make stress SECONDS=n.
fuzz: build/linux
	@SEED="$(SEED)" ITER="$(ITER)" VARIANT="$(VARIANT)" sh scripts/robust.sh fuzz

stress: build/linux
	@SEED="$(SEED)" SECONDS="$(SECONDS)" VARIANT="$(VARIANT)" sh scripts/robust.sh stress

# The tree's own run_vmtests.sh (with the series' hunks) in an x86_64 guest
# (VARIANT=arm64: arm64), as TAP; about 10 CPU-minutes, so not part of make
# check.
vmtests: build/linux
	@VARIANT="$(VARIANT)" sh scripts/robust.sh vmtests

# 0-day style gates, a script each (scripts/matrix-GATE.sh): arch x option
# build matrix (builds), W=1, LLVM, sparse, coccinelle (warnings),
# bisectability (bisect). STEPS="builds warnings bisect" picks gates.
STEPS ?= builds warnings bisect
.PHONY: matrix
matrix: deps build/linux
	@sh scripts/deps.sh check
	@fail=0; for s in $(STEPS); do sh scripts/matrix-$$s.sh || fail=1; done; exit $$fail

# Benchmarks: ours vs mainline 6.12 vs the unpatched base, in one run
# (README.md, "Benchmarks"). Never fails on a number.
.PHONY: bench
bench: deps base build/linux
	@sh scripts/bench.sh

clean:
	rm -rf build/out build/logs
