#!/usr/bin/env bash
# Distributed training with torchrun, one process per GPU (gloo on CPU-only machines):
#   sh tools/dist_train.sh CONFIG NUM_PROCESSES [tools/train.py arguments]
# NNODES / NODE_RANK / MASTER_ADDR / PORT select a multi-node run.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: sh tools/dist_train.sh CONFIG NUM_PROCESSES [train.py arguments]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$( [ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python )}"
exec "$PY" -m torch.distributed.run --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
