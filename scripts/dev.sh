#!/usr/bin/env bash
# One entry point for a fresh machine: creates .venv/ in the repo, installs what is needed (once per
# pyproject.toml change), then runs what was asked.
#   scripts/dev.sh serve [--host H] [--port P]   ingest the bundled corpus if needed and serve it
#   scripts/dev.sh test [pytest args]            ruff, mypy and the whole test suite (starts a Chroma server)
#   scripts/dev.sh setup                         only install
#   scripts/dev.sh <qa-service command ...>      anything else goes to the CLI
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
py=${PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python3

stamp="$venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -x "$venv/bin/python" ]; then
  echo "[setup] creating $venv" >&2
  "$py" -m venv "$venv"
fi
if [ ! -f "$stamp" ]; then
  echo "[setup] installing into $venv (first run takes a few minutes)" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" >&2 || true
  # The CPU build of torch first: anything that depends on torch would otherwise pull a multi-GB CUDA build.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check torch==2.13.0 2>&1 | grep -v "is ignored" >&2 || true
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "is ignored" >&2 || true
  "$venv/bin/python" -c "import torch, qa_service, api" || { echo "[setup] install failed" >&2; exit 1; }
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi

# No model hub, no telemetry: everything runs offline.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False TOKENIZERS_PARALLELISM=false

cmd=${1:-serve}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) echo "[setup] ready: $venv/bin/qa-service" ;;
  serve) exec "$venv/bin/qa-service" serve "$@" ;;
  test)
    # The web page is tested in Debian's headless Chromium; install it when we can (root with apt).
    if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "[setup] installing chromium for the browser test" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
        || echo "[setup] could not install chromium" >&2
    fi
    "$venv/bin/ruff" check src api tests
    "$venv/bin/mypy"
    tmp=$(mktemp -d)
    port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$venv/bin/chroma" run --path "$tmp/chroma" --host 127.0.0.1 --port "$port" >"$tmp/chroma.log" 2>&1 &
    chroma_pid=$!
    trap 'kill $chroma_pid 2>/dev/null || true; wait $chroma_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
    for _ in $(seq 1 60); do
      "$venv/bin/python" -c "import httpx,sys; httpx.get('http://127.0.0.1:$port/api/v2/heartbeat').raise_for_status()" >/dev/null 2>&1 && break
      sleep 0.5
    done
    export QA_TEST_CHROMA_URL="http://127.0.0.1:$port"
    "$venv/bin/python" -m pytest "$@"
    ;;
  *) exec "$venv/bin/qa-service" "$cmd" "$@" ;;
esac
