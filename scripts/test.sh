#!/usr/bin/env bash
# Install everything the tests need into .venv (and the Debian packages, as
# root) and run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-packages.sh
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check smtplab tests
exec .venv/bin/python -m pytest "$@"
