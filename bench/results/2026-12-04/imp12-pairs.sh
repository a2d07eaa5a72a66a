#!/bin/bash
# (imp12) N interleaved pairs of /work/briefs/phases.py: main, then this branch (order swapped every other pair).
# bash imp12-pairs.sh N > log   (run under flock /work/heavy.lock)
N=${1:-3}
F=/work/bench-keep/persons_100004.xlsx
C=/work/main/bench/out/county.db
for i in $(seq 1 "$N"); do
    if [ $((i % 2)) = 1 ]; then order="/work/main /work/wt-imp12"; else order="/work/wt-imp12 /work/main"; fi
    for root in $order; do
        echo "== pair $i $root $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
        python /work/briefs/phases.py "$root" "$F" "$C"
    done
done
