#!/usr/bin/env bash
# Bundle the apps test host (host.js + the official bridge) for the browser.
set -euo pipefail
cd "$(dirname "$0")"
node_modules/.bin/esbuild host.js --bundle --format=iife --platform=browser \
    --outfile=host.bundle.js --log-level=warning
