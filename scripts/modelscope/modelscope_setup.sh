#!/usr/bin/env bash
# Download a model from ModelScope and serve it with `modelhub serve` on the Transformers
# plugin (OpenAI's API at /v1, AgentScope's POST shape at /llm/), for the configs in
# model_config.json / model_config.yaml beside this script.
#
#   bash scripts/modelscope/modelscope_setup.sh [-m MODEL_ID] [-p PORT] [-H HOST]
#
#   -m  a ModelScope model id (default Qwen/Qwen2.5-0.5B-Instruct), or a folder it was
#       downloaded to
#   -p  the port (default 8000)          -H  the address (default 127.0.0.1)
#
# Clients ask for the model as "modelscope". Set MODELHUB_SERVE_KEY to require a key.
# Runs in the foreground until interrupted. PYTHON picks the interpreter (default python3).
set -euo pipefail

PYTHON="${PYTHON:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
model="Qwen/Qwen2.5-0.5B-Instruct"
port=8000
host=127.0.0.1
while getopts "m:p:H:h" flag; do
    case "$flag" in
        m) model="$OPTARG" ;;
        p) port="$OPTARG" ;;
        H) host="$OPTARG" ;;
        *) sed -n '2,14p' "$0"; exit 2 ;;
    esac
done

if [ ! -d "$model" ] && ! "$PYTHON" -c "import modelscope" 2>/dev/null; then
    echo "ModelScope's library is not installed for $PYTHON: pip install modelscope" >&2
    exit 1
fi
if ! "$PYTHON" -c "import modelhub_transformers" 2>/dev/null; then
    cat >&2 <<MSG
modelhub's Transformers plugin is not installed for $PYTHON. From a modelhub checkout:
    pip install torch                               # the CPU build is enough
    pip install -e plugins/modelhub-transformers
MSG
    exit 1
fi
if ! "$PYTHON" -c "import starlette, uvicorn" 2>/dev/null; then
    echo "modelhub serve is not installed for $PYTHON: pip install \"modelhub[serve]\"" >&2
    exit 1
fi

if [ -d "$model" ]; then
    folder="$model"
else
    echo "downloading $model from ModelScope (once; kept in its cache)"
    folder="$("$PYTHON" -c 'import sys; from modelscope import snapshot_download; print(snapshot_download(sys.argv[1]))' "$model" | tail -n 1)"
fi

export MODELSCOPE_MODEL="$folder"
exec "$PYTHON" -m modelhub --config "$here/serve_config.yaml" serve modelscope \
    --host "$host" --port "$port"
