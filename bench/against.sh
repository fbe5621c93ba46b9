#!/usr/bin/env bash
# `bash bench/against.sh REF [bench options]`: the benchmark of this work tree and of REF (a commit, a
# branch) in one session, alternating (this, REF, this, REF) so that drift on a shared machine hits
# both alike; then each measure's ratio side by side. For refactors that must not cost anything.
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
	(cd "$tmp/ref" && npx tsx bench/run.ts "$@" >/dev/null)
	cp "$tmp/ref/bench/results.json" "$tmp/ref-$round.json"
done
node bench/side-by-side.mjs "$ref" "$tmp"/this-*.json -- "$tmp"/ref-*.json
