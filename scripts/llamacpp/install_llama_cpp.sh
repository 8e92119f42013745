#!/usr/bin/env bash
# Install llama-cpp-python[server] into the current Python environment from a wheel
# built once per machine and version, kept in ~/.cache/modelhub-ci/wheels.
#
#   bash scripts/llamacpp/install_llama_cpp.sh            # the pinned version
#   LLAMA_CPP_PYTHON_VERSION=0.3.36 bash scripts/llamacpp/install_llama_cpp.sh
#
# llama-cpp-python ships no wheel for Linux on PyPI: pip builds llama.cpp from source,
# which takes about 6 minutes on 2 cores. The first run builds the wheel (for any x86-64
# CPU: GGML_NATIVE=OFF) and keeps it; every later run installs it in seconds. A build
# that fails leaves its log beside the cache and a note the tests report as their reason
# to skip; the next run tries again.
set -euo pipefail

VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
PYTHON="${PYTHON:-python}"
ROOT="${MODELHUB_WHEEL_CACHE:-$HOME/.cache/modelhub-ci/wheels}"
PYTAG="$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
CACHE="$ROOT/llama-cpp-python-$VERSION-$PYTAG"
FAILED="$ROOT/llama-cpp-python-build-failed.txt"

find_wheel() { ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -n 1 || true; }

if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    echo "install_llama_cpp.sh: $PYTHON has no pip" >&2
    exit 1
fi
installed="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null || true)"
if [ "$installed" = "$VERSION" ] && "$PYTHON" -c 'import llama_cpp.server' 2>/dev/null; then
    echo "llama-cpp-python $VERSION is installed"
    exit 0
fi

wheel="$(find_wheel)"
if [ -z "$wheel" ]; then
    for tool in cmake cc c++; do
        if ! command -v "$tool" >/dev/null; then
            echo "building llama-cpp-python needs $tool (apt-get install cmake build-essential)" \
                | tee "$FAILED" >&2
            exit 1
        fi
    done
    mkdir -p "$ROOT"
    build="$(mktemp -d "$ROOT/build.XXXXXX")"
    log="$ROOT/llama-cpp-python-$VERSION-build.log"
    echo "building llama-cpp-python $VERSION once for this machine (about 6 minutes; log: $log)"
    if CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" \
       CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
       "$PYTHON" -m pip wheel --no-deps --no-cache-dir -w "$build" \
       "llama-cpp-python==$VERSION" >"$log" 2>&1; then
        mkdir -p "$CACHE"
        mv "$build"/llama_cpp_python-*.whl "$CACHE"/
        rm -rf "$build" "$FAILED"
    else
        rm -rf "$build"
        echo "llama-cpp-python $VERSION could not be built on this machine; see $log" \
            | tee "$FAILED" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    wheel="$(find_wheel)"
fi
"$PYTHON" -m pip install -q "${wheel}[server]"
echo "llama-cpp-python $VERSION installed from $wheel"
