#!/bin/sh
# Evaluate a training run: sh test.sh <run dir>
# Finds the run's config (<name>.py, or the legacy <name>.json) and latest.pth in the run
# directory, prints the mIoU table and writes coloured predictions to <run dir>/preds.
# Extra arguments are passed on to tools/test.py (e.g. --aug-test, --hrda-out LR,
# --label-shift <run dir>/label_shift.json; relative paths are relative to the repository
# root).
set -eu

if [ $# -lt 1 ]; then
    echo "usage: sh test.sh <run dir> [extra tools/test.py arguments]" >&2
    exit 2
fi
RUN_DIR="$1"
shift
if [ ! -d "$RUN_DIR" ]; then
    echo "test.sh: run directory not found: $RUN_DIR" >&2
    exit 1
fi
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
ROOT="$(cd "$(dirname "$0")" && pwd)"

# The config: <run dir name>.py / .json first, else the only .py / .json in the folder.
find_config() {
    base="$(basename "$RUN_DIR")"
    for ext in py json; do
        if [ -f "$RUN_DIR/$base.$ext" ]; then
            echo "$RUN_DIR/$base.$ext"
            return 0
        fi
    done
    for ext in py json; do
        count=0
        found=""
        for f in "$RUN_DIR"/*."$ext"; do
            [ -f "$f" ] || continue
            count=$((count + 1))
            found="$f"
        done
        if [ "$count" -eq 1 ]; then
            echo "$found"
            return 0
        elif [ "$count" -gt 1 ]; then
            echo "test.sh: several .$ext configs in $RUN_DIR; expected one (or" \
                 "$base.$ext):" "$RUN_DIR"/*."$ext" >&2
            return 1
        fi
    done
    echo "test.sh: no config (.py or legacy .json) found in $RUN_DIR; a training run" \
         "directory holds the config that tools/train.py saved there" >&2
    return 1
}

CONFIG_FILE="$(find_config)" || exit 1
CHECKPOINT_FILE="$RUN_DIR/latest.pth"
if [ ! -f "$CHECKPOINT_FILE" ]; then
    echo "test.sh: no checkpoint found: $CHECKPOINT_FILE does not exist (has the training" \
         "run saved a checkpoint yet?)" >&2
    exit 1
fi
SHOW_DIR="$RUN_DIR/preds"

if [ -n "${PYTHON:-}" ]; then
    PY="$PYTHON"
elif [ -x "$ROOT/.venv/bin/python" ]; then
    PY="$ROOT/.venv/bin/python"
else
    PY=python
fi

echo "config:     $CONFIG_FILE"
echo "checkpoint: $CHECKPOINT_FILE"
echo "preds:      $SHOW_DIR"
# Relative paths in configs (data/...) are relative to the repository root.
cd "$ROOT"
exec "$PY" tools/test.py "$CONFIG_FILE" "$CHECKPOINT_FILE" --eval mIoU \
    --show-dir "$SHOW_DIR" --opacity 1 "$@"
