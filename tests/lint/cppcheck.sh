#!/usr/bin/env bash
# Static analysis of docrt's C sources (include/, src/, graph/) with cppcheck (Debian `cppcheck`),
# the configuration CI uses: checks warning, portability and performance,
# C11, every configuration of the preprocessor, system headers not followed.
# Exit 1 on any finding. A false positive is suppressed inline
# (`// cppcheck-suppress ID` on the line before, with the reason), never
# here.
#   tests/lint/cppcheck.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
command -v cppcheck >/dev/null || { echo "cppcheck.sh: apt-get install cppcheck" >&2; exit 2; }
cppcheck --version
cppcheck --enable=warning,portability,performance --std=c11 --inline-suppr \
    --error-exitcode=1 --quiet -I include -I src -I graph \
    --suppress=missingIncludeSystem include src graph
echo "cppcheck.sh: no findings"
