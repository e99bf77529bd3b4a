# mk/bench.mk: `make bench`, the benchmarks of bench/ (included by the Makefile).
#
#   make bench               B1-B7 at full size (about 10 minutes), one table;
#                            the table also goes to build/bench/table.md
#   make bench BENCH_QUICK=1 smaller sizes, for a first look
#   make bench BENCH=b4      some of them only (b1 ... b7, space-separated)
#
# bench/RESULTS.md keeps the figures of the last full run with the command.

BENCH       ?=
BENCH_QUICK ?=

.PHONY: bench

bench:
	@sh .ci/install-deps bench
	@$(MAKE) --no-print-directory build emulator
	$(LUA) bench/run.lua $(if $(BENCH_QUICK),quick) $(BENCH)
