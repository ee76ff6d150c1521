# SPDX-License-Identifier: GPL-2.0
# Workbench of the memcg_bpf_ops series. See README.md.
#
#   make test        everything from whatever is missing, then the tests in a VM
#   make demo        the demo/experiments on the patched kernel
#   make tree        kernel git tree = base + git am patches/
#   make export      patches/ (+ exported files) from the tree's commits
#   make check       series applies to a fresh base, exports match, checkpatch
#   make kernel      build the kernel (FLAVOUR=full|debug)
#   make selftests   build test_progs against it
#   make vm CMD=...  run a command in the VM
#   make bisect      build the kernel at every patch of the series
#   make bench       charge-path cost: base vs patched vs patched + program
#   make bench-ctl   control-path cost: attach/detach latency, cgroup churn
#   make docs        htmldocs + kernel-doc: no warning on the series' lines
#   make sample-build  samples/bpf with and without CONFIG_MEMCG_BPF
#   make mutants     build and test each mutant of mutants/: mutation score
#   make fault       fault injection into the control path (debug kernel)
#   make soak        30 minutes of policy changes under load: slab, memcgs, OOM kills
#   make kcsan       data races: the tests on KCSAN kernels, series and base
#   make matrix      the robot's builds: i386, arm64, clang, options off, W=1, sparse

SHELL := /bin/bash
S := scripts
export MATRIX MATRIX_CHECK FAULT_DESCENDANTS FAULT_OPS MUTANTS MUTANT_TESTS MUTANTS_RESUME EXACT PARALLEL SAMPLE LABEL DESCENDANTS CHURN_DESCENDANTS BENCH_DIR FLAVOUR KDIR MEMCG_BPF_CACHE VM_MEM VM_CPUS VM_KVM TESTS REPEAT STRESS_SECS ROUNDS BENCH_ARGS DEMO_REPS DEMO_SECS DEMO_ONLY SOAK_SECS SOAK_EVERY SOAK_RESTART SOAK_WINDOW

.PHONY: all toolchain base tree export check kernel selftests vm test bisect bench bench-ctl demo docs sample-build mutants fault soak kcsan matrix help

all: help
help:
	@sed -n 's/^#   //p' Makefile

toolchain:
	@$(S)/toolchain.sh
base:
	@$(S)/fetch-base.sh
tree: base
	@$(S)/tree.sh
export:
	@$(S)/export.sh
check: tree
	@$(S)/check.sh
kernel: toolchain tree
	@$(S)/build-kernel.sh
selftests: kernel
	@$(S)/build-selftests.sh
vm:
	@test -n "$(CMD)" || { echo "usage: make vm CMD='command'"; exit 2; }
	@$(S)/vm.sh '$(subst ','\'',$(CMD))'
test: selftests
	@$(S)/test.sh
bisect: toolchain tree
	@$(S)/bisect.sh
bench: selftests
	@$(S)/bench.sh
bench-ctl: selftests
	@$(S)/bench-ctl.sh
demo: selftests
	@$(S)/demo.sh
docs: toolchain tree
	@$(S)/docs-check.sh
sample-build: kernel
	@$(S)/sample-build.sh
mutants: selftests
	@$(S)/mutants.sh
# The debug kernel unless FLAVOUR says otherwise. Not a target-specific
# "FLAVOUR ?= debug": GNU make 4.3 then exports FLAVOUR empty to every
# recipe, and `FLAVOUR=debug make test` built the full kernel.
fault:
	@$(MAKE) --no-print-directory selftests FLAVOUR=$(or $(FLAVOUR),debug)
	@FLAVOUR=$(or $(FLAVOUR),debug) $(S)/fault.sh
soak: selftests
	@$(S)/soak.sh
kcsan: toolchain tree
	@$(S)/kcsan.sh
matrix: kernel
	@$(S)/matrix.sh
