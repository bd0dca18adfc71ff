#!/usr/bin/env bash
# The package as a user installs it: pack it (`npm pack` runs the dist/ build), install the tarball
# with a plain `npm i` into a scratch project outside the repository (vitest and typescript from
# the registry, nothing else), typecheck tests/consumer/ against the published declarations and
# run it there. It imports { verify, bench } from 'llm-auction' and the matchers from
# 'llm-auction/vitest', and passes only if a correct rule passes and a planted violation fails
# with its evidence. Also checks the installed CLI. Usage: bash scripts/consumer-test.sh [DIR]
# (without DIR a temporary directory is used, and removed when the test passes)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$(mktemp -d /tmp/llm-auction-consumer.XXXXXX)}"
case "$dir" in "$repo"|"$repo"/*) echo "consumer-test: $dir is inside the repository" >&2; exit 2 ;; esac
mkdir -p "$dir"
# .npmrc's ignore-scripts would skip prepack: ask for it, so the tarball holds a fresh dist/.
if ! tarball="$(cd "$repo" && npm pack --ignore-scripts=false --pack-destination "$dir" 2>"$dir/pack.log" | tail -n 1)"; then
  cat "$dir/pack.log" >&2
  echo "consumer-test: npm pack failed (the build's errors are above)" >&2
  exit 1
fi
echo "consumer-test: packed $tarball into $dir (${SECONDS} s)"
cd "$dir"
cp "$repo"/tests/consumer/* .
cat > package.json <<JSON
{ "name": "llm-auction-consumer", "private": true, "type": "module" }
JSON
# A user's install: no .npmrc here, so every install script of every dependency runs.
vitest_version="$(node -p "require('$repo/node_modules/vitest/package.json').version")"
ts_version="$(node -p "require('$repo/node_modules/typescript/package.json').version")"
npm i --no-audit --no-fund "./$tarball" "vitest@$vitest_version" "typescript@$ts_version" "@types/node@20"
echo "consumer-test: installed (${SECONDS} s)"
test ! -e node_modules/onnxruntime-node || { echo "consumer-test: onnxruntime-node was installed (it must stay an optional peer)" >&2; exit 1; }
npx tsc -p tsconfig.json
npx llm-auction --version
npx llm-auction verify -m module:./softmax-rule.mjs --property monotonicity --cases 2 --seed 1
echo "consumer-test: typecheck and CLI done (${SECONDS} s)"
npx vitest run
echo "consumer-test: passed in $dir (${SECONDS} s)"
# A scratch directory of our own making goes (~150 MB); one given as DIR, or a failed run's, stays.
if [ $# -eq 0 ]; then rm -rf "$dir"; fi
