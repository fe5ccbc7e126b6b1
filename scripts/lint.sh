#!/usr/bin/env bash
# Lint: clang-format and clang-tidy with the repository's .clang-format and .clang-tidy.
#   scripts/lint.sh format          check that every tracked C++ file is formatted (exit 1 and
#                                   the files' names when not); the test suite runs this
#   scripts/lint.sh fix             format every tracked C++ file in place
#   scripts/lint.sh tidy [BASE]     clang-tidy (bugprone, performance, modernize; bugprone and
#                                   performance are errors) on the .cc files changed since BASE
#                                   (default: the merge base with main, else HEAD~1), with the
#                                   compile commands of build/ (BUILD_DIR to change)
# Needs clang-format and clang-tidy (Debian's, installed by scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-format}

cxx_files() { git ls-files -- '*.cc' '*.h' ':!:**/node_modules/**'; }

case "$what" in
  format)
    bad=()
    while IFS= read -r f; do
      clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
    done < <(cxx_files)
    if ((${#bad[@]})); then
      printf '  %s\n' "${bad[@]}"
      echo "lint: ${#bad[@]} file(s) above are not clang-formatted: scripts/lint.sh fix" >&2
      exit 1
    fi
    echo "lint: $(cxx_files | wc -l) C++ files clang-formatted"
    ;;
  fix)
    cxx_files | xargs clang-format -i
    ;;
  tidy)
    build=${BUILD_DIR:-build}
    [ -f "$build/compile_commands.json" ] || { echo "lint: $build/compile_commands.json is missing: configure with CMake first" >&2; exit 2; }
    base=${2:-$(git merge-base HEAD main 2>/dev/null || echo HEAD~1)}
    [ "$(git rev-parse HEAD)" != "$(git rev-parse "$base")" ] || base=HEAD~1
    mapfile -t files < <(git diff --name-only --diff-filter=AM "$base" -- '*.cc')
    ((${#files[@]})) || { echo "lint: no .cc file changed since $base"; exit 0; }
    echo "lint: clang-tidy on ${#files[@]} file(s) changed since $(git rev-parse --short "$base")"
    clang-tidy -p "$build" --quiet "${files[@]}"
    ;;
  *) echo "usage: scripts/lint.sh format|fix|tidy [BASE]" >&2; exit 2 ;;
esac
