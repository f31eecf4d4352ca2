#!/usr/bin/env bash
# The HTTP load bench: server CPU per request of an unguarded handler,
# #[require_token] (HS256, RS256) and a hand-written jsonwebtoken extractor.
# Servers listen on 127.0.0.1 only; every run is bounded in requests and time.
# Usage: benches/load.sh [--requests N] [--rounds R] [--connections C] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --bench load -- "$@"
