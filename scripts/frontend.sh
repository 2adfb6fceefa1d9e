#!/usr/bin/env bash
# Install the dashboard's front-end libraries from the npm registry (never committed as copies).
set -euo pipefail
dir=server/web/frontend
[ -f "$dir/package.json" ] || exit 0
if [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package.json" ]; then
  exit 0
fi
if [ -f "$dir/package-lock.json" ]; then
  npm ci --prefix "$dir" --no-audit --no-fund --silent
else
  npm install --prefix "$dir" --no-audit --no-fund --silent
fi
