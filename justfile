# mmap-lessons — every claim about mmap, measured on your machine.
# `just` with no arguments lists these recipes.

# List the recipes
default:
    @just --list --unsorted

# Run one lesson, e.g. `just lesson 5` or `just lesson 05 --size 1G --cold`
[positional-arguments]
lesson n *args:
    #!/usr/bin/env bash
    set -euo pipefail
    pkg=$(cargo run -q --release -p mmap-lab --bin lessons -- package "$1")
    shift
    cargo run -q --release -p "$pkg" -- "$@"

# List the lessons, their titles and the claims each one checks
lessons:
    @cargo run -q --release -p mmap-lab --bin lessons

# Run every test (the same command as in the README)
test:
    cargo test --workspace

# Run the benchmarks and export target/bench-results.json: `just bench` (full) or `just bench quick`
bench mode="full":
    #!/usr/bin/env bash
    set -euo pipefail
    # The export takes only results written after this moment: never an earlier run's.
    since=$(date +%s)
    MMAP_BENCH_QUICK={{ if mode == "quick" { "1" } else if mode == "full" { "0" } else { error("just bench: the mode is full or quick") } }} cargo bench -p mmap-benches
    cargo run -q --release -p mmap-benches --bin bench-results -- export --mode {{mode}} --since "$since"

# Your benchmark numbers beside the reference machine's, e.g. `just compare --format markdown`
[positional-arguments]
compare *args:
    @cargo run -q --release -p mmap-benches --bin bench-results -- compare "$@"

# Run every lesson and the quick benchmarks, then build the book with your numbers beside the reference's
book:
    cargo run -q -p mmap-book -- build

# Run every lesson, then print when mmap won on this machine beside the reference: `just summary --no-run` reuses the last results
[positional-arguments]
summary *args:
    @cargo run -q --release -p mmap-book -- summary "$@"

# Preview the book with live reload (mdbook serve); `just book` first to include your numbers
[positional-arguments]
serve *args:
    cargo run -q -p mmap-book -- serve "$@"

# Re-record the reference machine's numbers in book/reference/: every lesson, then the full benchmarks
reference:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo run -q -p mmap-book -- reference
    since=$(date +%s)
    MMAP_BENCH_QUICK=0 cargo bench -p mmap-benches
    cargo run -q --release -p mmap-benches --bin bench-results -- export --mode full --since "$since" --out book/reference/bench.json

# Delete the sample files the lessons and benchmarks made (only those, in target/lesson-data)
clean-data:
    @cargo run -q --release -p mmap-lab --bin lessons -- clean-data
