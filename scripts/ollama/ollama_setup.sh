#!/usr/bin/env bash
# Pull a model into Ollama and check that it answers, for the configs in
# model_config.json / model_config.yaml beside this script. Starts `ollama serve` when
# no Ollama server answers (it then runs until interrupted).
#
#   bash scripts/ollama/ollama_setup.sh [-m MODEL] [-H HOST:PORT]
#
#   -m  the model to pull (default smollm2:135m)
#   -H  the Ollama server (default $OLLAMA_HOST, else 127.0.0.1:11434)
set -euo pipefail
source "$(dirname "$0")/../setup_common.sh"
model="smollm2:135m"
export OLLAMA_HOST="${OLLAMA_HOST:-127.0.0.1:11434}"
while getopts "m:H:h" flag; do
    case "$flag" in
        m) model="$OPTARG" ;;
        H) export OLLAMA_HOST="$OPTARG" ;;
        *) show_usage "$0"; exit 2 ;;
    esac
done

if ! command -v ollama >/dev/null; then
    cat >&2 <<MSG
Ollama is not installed (no 'ollama' command on PATH). Install it from
    https://ollama.com/download
(Linux: its install script, or the release archive unpacked into /usr/local), then run
this script again.
MSG
    exit 1
fi

server=""
if ! ollama list >/dev/null 2>&1; then
    echo "no Ollama server at $OLLAMA_HOST: starting one"
    ollama serve &
    server=$!
    trap 'kill "$server" 2>/dev/null || true' EXIT
    for _ in $(seq 1 60); do
        ollama list >/dev/null 2>&1 && break
        sleep 1
    done
fi

ollama pull "$model"
answer="$(ollama run "$model" "Reply with one word: ready" </dev/null)"
if [ -z "$answer" ]; then
    echo "$model gave no answer" >&2
    exit 1
fi
echo "$model answers: $answer"
echo "configs: scripts/ollama/model_config.yaml (model_name: $model, base_url: http://$OLLAMA_HOST)"
if [ -n "$server" ]; then
    echo "serving until interrupted"
    trap 'exit 0' INT TERM
    wait "$server"
fi
