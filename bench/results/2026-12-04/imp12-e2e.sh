#!/bin/bash
# scenarios x backends, main vs branch
E=/work/wt-imp12/bench/results/2026-12-04/imp12-e2e.py
B=/work/bench-keep/persons_100004.xlsx
PGA="postgresql+psycopg://postgres@/imp12a?host=/tmp/imp12pg&port=56212"
PGB="postgresql+psycopg://postgres@/imp12b?host=/tmp/imp12pg&port=56212"
declare -A S
S[bench]="$B $B"
S[changes]="$B /tmp/imp12/changes.xlsx"
S[errdef]="/tmp/imp12/errors.xlsx /tmp/imp12/errors.xlsx"
S[errskip]="--skip-invalid /tmp/imp12/errors.xlsx /tmp/imp12/errors2.xlsx /tmp/imp12/errors2.xlsx"
for be in sqlite pg; do
  for s in bench changes errdef errskip; do
    if [ $be = sqlite ]; then rm -rf /tmp/imp12/e2e_a /tmp/imp12/e2e_b; mkdir -p /tmp/imp12/e2e_a /tmp/imp12/e2e_b
       UA=sqlite:////tmp/imp12/e2e_a/t.db; UB=sqlite:////tmp/imp12/e2e_b/t.db; else UA=$PGA; UB=$PGB; fi
    echo "== $be $s ($(date -u +%H:%M:%S))"
    python $E /work/main "$UA" /tmp/imp12/e2e_old.pickle ${S[$s]} >/dev/null &
    python $E /work/wt-imp12 "$UB" /tmp/imp12/e2e_new.pickle ${S[$s]} >/dev/null
    wait
    python $E --compare /tmp/imp12/e2e_old.pickle /tmp/imp12/e2e_new.pickle
  done
done
