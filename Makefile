# `make bench` runs every benchmark (about 45 minutes on 2 cores) and rewrites BENCHMARKS.md;
# `make bench-smoke` checks that the scripts work, in seconds. See scripts/bench.
.PHONY: bench bench-smoke

bench:
	bash scripts/bench

bench-smoke:
	bash scripts/bench --smoke --output /dev/null
