"""A modelhub config as an AgentScope chat model, for AgentScope 1.x and 2.x.

    from modelhub.adapters.agentscope import ChatModel

    model = ChatModel("qwen")                                  # either version

AgentScope changed its model base in 2.0, so the class comes from the module for the
version installed: `modelhub.adapters.agentscope_v1` (1.x: `ChatModelBase(model_name,
stream)`, called with formatted messages, streams the accumulated answer so far) or
`modelhub.adapters.agentscope_v2` (2.x: `ChatModelBase(credential, model, parameters,
stream)`, called with `Msg`s it formats itself, streams deltas). Both answer with
`ChatResponse`s holding text, tool-call and thinking blocks and a `ChatUsage`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from modelhub.adapters._common import require

require("agentscope", "agentscope")

try:
    _MAJOR = int(version("agentscope").split(".")[0])
except (PackageNotFoundError, ValueError):  # a source checkout: ask the package itself
    import agentscope as _agentscope

    _MAJOR = int(str(getattr(_agentscope, "__version__", "2")).split(".")[0])

if _MAJOR >= 2:
    from modelhub.adapters.agentscope_v2 import ChatModel, ModelhubCredential

    __all__ = ["ChatModel", "ModelhubCredential"]
else:  # 1.x has no credentials
    from modelhub.adapters.agentscope_v1 import ChatModel  # type: ignore[assignment]

    __all__ = ["ChatModel"]
