#!/usr/bin/env bash
# The AgentScope 1.x adapter's tests, in a virtual environment of their own: AgentScope
# 1.x and 2.x are one distribution, and the test extra holds 2.x. The venv goes to
# $AGENTSCOPE1_VENV (default: .venv-agentscope1 in the project) and is reused when
# present. Pins: AgentScope 1.0.21 imports names that mcp 2 removed; SQLAlchemy's
# asyncio support needs greenlet, which newer SQLAlchemy no longer pulls in; and its
# evaluate package imports tqdm without declaring it.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${AGENTSCOPE1_VENV:-.venv-agentscope1}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q -e ".[openai]" pytest pytest-asyncio \
    "agentscope>=1.0.21,<2" "mcp<2" greenlet tqdm

# MODELHUB_EXPECT_AGENTSCOPE makes a wrong version a failure, not a run of skips.
MODELHUB_EXPECT_AGENTSCOPE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_adapter_agentscope.py "$@"
