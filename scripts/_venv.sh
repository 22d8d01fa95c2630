# Sourced by ./run and ./test: create .venv once and install the project into it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
pip install --quiet --disable-pip-version-check -e ".$1" 2>&1 | grep -v "^WARNING: Location" || true
