#!/usr/bin/env bash
# Checks that every C file follows .clang-format (clang-format 14, as
# Debian 12 ships it). Prints the files that differ; exit 1 if any.
# To fix them: git ls-files '*.c' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r file; do
    if ! clang-format --dry-run --Werror "$file" > /dev/null 2>&1; then
        echo "not formatted: $file"
        bad=1
    fi
done < <(git ls-files '*.c' '*.h')
[ "$bad" -eq 0 ] && echo "format: every C file follows .clang-format"
exit "$bad"
