#!/usr/bin/env bash
# Run the whole suite against the NEWEST versions pyproject.toml allows (ignoring requirements.lock),
# in a separate ./.venv-latest, to find what a future lock refresh would break.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
rm -rf .venv-latest
"$PYTHON" -m venv .venv-latest
.venv-latest/bin/python -m pip install --quiet --upgrade pip
.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
mkdir -p test-output
.venv-latest/bin/python -m pip freeze --exclude-editable > test-output/latest-freeze.txt
echo "newest versions installed: test-output/latest-freeze.txt"
HAOBAN_VENV=.venv-latest bash scripts/test.sh --no-install "$@"
