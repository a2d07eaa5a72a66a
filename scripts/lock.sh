#!/usr/bin/env bash
# Regenerate the locked requirement files from pyproject.toml (needs pip-tools):
#     bash scripts/lock.sh                          # keep the locked versions where still allowed
#     bash scripts/lock.sh --upgrade-package NAME   # move one package (or --upgrade: all)
# requirements.txt: the runtime set; requirements-test.txt: runtime + the `test` extra,
# constrained to requirements.txt so both name the same versions.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"
common=(--quiet --strip-extras --no-emit-index-url --no-emit-find-links "$@")
"${PYTHON:-python}" -m piptools compile "${common[@]}" --output-file requirements.txt pyproject.toml
"${PYTHON:-python}" -m piptools compile "${common[@]}" --extra test --allow-unsafe --constraint requirements.txt \
    --output-file requirements-test.txt pyproject.toml
