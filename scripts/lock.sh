#!/usr/bin/env bash
# Refresh requirements.lock on purpose: resolve pyproject.toml's ranges (with the test extras) to the
# newest versions for Python 3.11 on every platform. Run the suite against the result before committing:
#   bash scripts/lock.sh && bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet uv
.venv/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 --universal \
  --no-header --quiet -o requirements.lock.new
{
  echo "# The versions the suite passed with: constraints for the README's commands (pip install -c)."
  echo "# Refreshed on purpose with: bash scripts/lock.sh (uv pip compile of pyproject.toml + test extras)."
  cat requirements.lock.new
} > requirements.lock
rm requirements.lock.new
echo "requirements.lock: $(grep -c '==' requirements.lock) pinned packages"
