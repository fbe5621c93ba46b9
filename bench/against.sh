#!/usr/bin/env bash
# `bash bench/against.sh REF [bench options]`: this work tree's build and REF's (a commit, a branch)
# measured by this work tree's benchmark in one session, alternating (this, REF, this, REF) so that
# drift on a shared machine hits both alike; then each measure's ratio side by side. Only the
# extension differs between the two runs. For refactors that must not cost anything; with
# `--only store,reveal` and BENCH_ROUNDS=6 a few measures can be repeated until the noise is small.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=$1
shift
rounds=${BENCH_ROUNDS:-2}
tmp=$(mktemp -d)
git worktree add -q --detach "$tmp/ref" "$ref"
trap 'git worktree remove --force "$tmp/ref"; rm -rf "$tmp"' EXIT
ln -s "$PWD/node_modules" "$tmp/ref/node_modules"
npm run build >/dev/null
(cd "$tmp/ref" && npm run build >/dev/null)
for round in $(seq "$rounds"); do
	echo "round $round: this work tree" >&2
	npx tsx bench/run.ts "$@" >/dev/null
	cp bench/results.json "$tmp/this-$round.json"
	echo "round $round: $ref" >&2
	CREDENTIALS_EXTENSION_BUILD="$tmp/ref" npx tsx bench/run.ts "$@" >/dev/null
	cp bench/results.json "$tmp/ref-$round.json"
done
node bench/side-by-side.mjs "$ref" "$tmp"/this-*.json -- "$tmp"/ref-*.json
