"""PillPal's benchmarks: `make bench` runs every bench_*.py here and prints figures (no pass/fail)."""
