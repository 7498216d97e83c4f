#!/usr/bin/env bash
# Idempotent set-up: creates (or reuses) .venv/ in the repository root and installs
# everything the project needs. Safe to run again; it only installs what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV"
    "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
STAMP="$VENV/.mmseg_setup_done"
REQ_HASH="$(cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" "$ROOT/tools/setup_env.sh" | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQ_HASH" ]; then
    echo "[setup] $VENV is up to date"
    exit 0
fi

PIP=("$VPY" -m pip install --disable-pip-version-check -q)
echo "[setup] installing torch / torchvision"
"${PIP[@]}" "torch==2.14.1" "torchvision==0.29.1"
echo "[setup] installing mmcv 1.7.2 (pure Python)"
"${PIP[@]}" "setuptools<81" wheel
MMCV_WITH_OPS=0 "${PIP[@]}" --no-build-isolation "mmcv==1.7.2"
echo "[setup] installing the remaining requirements"
"${PIP[@]}" -r "$ROOT/requirements.txt"
"${PIP[@]}" --no-build-isolation --no-deps -e "$ROOT"
echo "$REQ_HASH" > "$STAMP"
echo "[setup] done: activate with 'source .venv/bin/activate'"
