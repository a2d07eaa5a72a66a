#!/bin/bash
# bench/imp11_scenarios.sh ROOT TAG [--target URL]: the comparison runs of imp11 (files from bench/imp11_files.py in /tmp/imp11)
ROOT=$1; TAG=$2; shift 2
D=/tmp/imp11
python /work/wt-imp11/bench/imp11_dump.py $ROOT $D/$TAG-mix.pkl "$@" $D/clean30.xlsx $D/errors.xlsx $D/errors.xlsx:skip $D/changes.xlsx:skip $D/changes.xlsx:skip:clear $D/errors.xlsx:skip:clear $D/changes.xlsx
python /work/wt-imp11/bench/imp11_dump.py $ROOT $D/$TAG-err.pkl "$@" $D/errors.xlsx:skip $D/errors.xlsx:skip $D/changes.xlsx:skip
python /work/wt-imp11/bench/imp11_dump.py $ROOT $D/$TAG-mov.pkl "$@" $D/clean30.xlsx $D/moves.xlsx $D/moves.xlsx:skip $D/moves.xlsx:skip $D/moves.xlsx:skip:clear
