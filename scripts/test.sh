#!/usr/bin/env bash
# Install haoban into ./.venv (pinned by requirements.lock) and run the whole test suite: ruff, then
# pytest on SQLite, then again on PostgreSQL when HAOBAN_TEST_DATABASE_URL is set or CI=true (an
# unreachable PostgreSQL then fails the run). Browser tests need Debian's chromium: installed here with
# apt when it is missing and apt is usable (never `playwright install`).
# Options: --no-install (use the venv as it is; scripts/test-latest.sh uses this); the rest go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
VENV=${HAOBAN_VENV:-.venv}
INSTALL=1
if [ "${1:-}" = "--no-install" ]; then
  INSTALL=0
  shift
fi

if [ "$INSTALL" = 1 ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -c requirements.lock -e '.[test]'
fi

if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium is missing and apt-get is not usable here; the browser tests will fail" >&2
  fi
fi

if ! command -v espeak-ng >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing Debian's espeak-ng for the spoken tourism guides"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null
  else
    echo "warning: espeak-ng is missing and apt-get is not usable here; the spoken-guide tests are skipped" >&2
  fi
fi

echo "== ruff"
"$VENV/bin/ruff" check src tests bench

echo "== tests on SQLite"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n "${HAOBAN_TEST_WORKERS:-2}" "$@"

if [ "${CI:-}" = "true" ] && [ -z "${HAOBAN_TEST_DATABASE_URL:-}" ]; then
  export HAOBAN_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
fi
if [ -n "${HAOBAN_TEST_DATABASE_URL:-}" ]; then
  echo "== tests on PostgreSQL ($HAOBAN_TEST_DATABASE_URL)"
  HAOBAN_TEST_REQUIRE_DB=1 "$VENV/bin/python" -m pytest -q -p no:cacheprovider -n "${HAOBAN_TEST_WORKERS:-2}" "$@"
fi
