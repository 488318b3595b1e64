#!/usr/bin/env bash
# Install haoban into ./.venv and run the whole test suite: on SQLite, and on PostgreSQL when
# HAOBAN_TEST_DATABASE_URL is set or CI=true (then an unreachable PostgreSQL fails the run).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

echo "== ruff"
.venv/bin/ruff check src tests bench

echo "== tests on SQLite"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"

if [ "${CI:-}" = "true" ] && [ -z "${HAOBAN_TEST_DATABASE_URL:-}" ]; then
  export HAOBAN_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
fi
if [ -n "${HAOBAN_TEST_DATABASE_URL:-}" ]; then
  echo "== tests on PostgreSQL ($HAOBAN_TEST_DATABASE_URL)"
  HAOBAN_TEST_REQUIRE_DB=1 .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
fi
