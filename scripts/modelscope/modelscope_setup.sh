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
source "$(dirname "$0")/../setup_common.sh"
here="$(cd "$(dirname "$0")" && pwd)"
parse_service_args "$0" "Qwen/Qwen2.5-0.5B-Instruct" 8000 "$@"
if [ ! -d "$model" ]; then
    need_module modelscope \
        "ModelScope's library is not installed for $PYTHON: pip install modelscope"
fi
need_modelhub_transformers

if [ -d "$model" ]; then
    folder="$model"
else
    echo "downloading $model from ModelScope (once; kept in its cache)"
    folder="$("$PYTHON" -c 'import sys; from modelscope import snapshot_download; print(snapshot_download(sys.argv[1]))' "$model" | tail -n 1)"
fi

export MODELSCOPE_MODEL="$folder"
exec "$PYTHON" -m modelhub --config "$here/serve_config.yaml" serve modelscope \
    --host "$host" --port "$port"
