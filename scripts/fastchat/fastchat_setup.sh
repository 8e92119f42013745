#!/usr/bin/env bash
# Serve a model with FastChat: its controller, one model worker and its OpenAI API
# server, for the configs in model_config.json / model_config.yaml beside this script.
#
#   bash scripts/fastchat/fastchat_setup.sh -m MODEL [-p PORT] [-H HOST]
#
#   -m  a Hugging Face model id or a local model folder (default
#       lmsys/vicuna-7b-v1.5); clients ask for it by this name
#   -p  the API server's port (default 8000)     -H  its address (default 127.0.0.1)
#
# Runs the three processes until interrupted, then stops them all. PYTHON picks the
# interpreter (default python3).
set -euo pipefail
source "$(dirname "$0")/../setup_common.sh"
parse_service_args "$0" "lmsys/vicuna-7b-v1.5" 8000 "$@"

need_module "fastchat.serve.controller, fastchat.serve.model_worker, fastchat.serve.openai_api_server" \
    "FastChat is not installed for $PYTHON (or its model worker's dependencies are not)." \
    "Install it with" \
    "    pip install \"fschat[model_worker]\""

pids=()
stop() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 0' INT TERM

controller_port=$((port + 1))
worker_port=$((port + 2))
"$PYTHON" -m fastchat.serve.controller --host 127.0.0.1 --port "$controller_port" &
pids+=($!)
sleep 2
"$PYTHON" -m fastchat.serve.model_worker --model-path "$model" --model-names "$model" \
    --host 127.0.0.1 --port "$worker_port" --worker-address "http://127.0.0.1:$worker_port" \
    --controller-address "http://127.0.0.1:$controller_port" &
pids+=($!)
sleep 2
"$PYTHON" -m fastchat.serve.openai_api_server --host "$host" --port "$port" \
    --controller-address "http://127.0.0.1:$controller_port" &
pids+=($!)
echo "FastChat: serving $model at http://$host:$port/v1 (the worker loads it first)"
wait -n "${pids[@]}"
