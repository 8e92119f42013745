"""The sync HTTP clients a `litellm_chat` wrapper hands LiteLLM (`client=`), whose
connections keep to the deadline of the call in flight (`modelhub.http.deadline`), so
that each attempt is bounded as a whole, not each read alone.

LiteLLM 1.x sends a call one of two ways: through the OpenAI SDK for OpenAI and the
OpenAI-compatible providers (`client=` then takes an `openai.OpenAI`), or through its
own `HTTPHandler` for the others, Anthropic included (`client=` then takes an
`HTTPHandler`; a provider whose handler does not use one ignores it). Both clients are
this wrapper's own, built with LiteLLM's own settings (its SSL configuration, default
headers), so nothing changes for other users of LiteLLM in the process: its shared
clients are left alone. Async calls need none of this: `awith_retries` bounds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelhub.http import deadline

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["SyncClients"]


def _takes_openai_client(litellm: ModuleType, provider: str | None) -> bool:
    """Whether LiteLLM reads a sync call's `client=` for `provider` as an `openai.OpenAI`
    (its OpenAI-compatible path) rather than an `HTTPHandler`. LiteLLM 1.110's dispatch
    function for a provider (`litellm.main._complete_<provider>`) names the one it
    reads; many providers LiteLLM lists as OpenAI-compatible (groq, deepseek, xai,
    together_ai, hosted_vllm, ...) have their own, reading an `HTTPHandler`. Without
    such a function (another LiteLLM release), the provider list decides."""
    if provider is None:
        return False
    import importlib

    try:
        main = importlib.import_module("litellm.main")
    except ImportError:
        main = None
    dispatch = getattr(main, f"_complete_{provider}", None)
    names = getattr(getattr(dispatch, "__code__", None), "co_names", ())
    if "_dispatch_client_http" in names:
        return False
    if "_dispatch_client_openai" in names:
        return True
    return provider == "openai" or provider in litellm.openai_compatible_providers


class SyncClients:
    """The `client=` argument for one wrapper's sync LiteLLM calls, built on first use."""

    __slots__ = ("_api_base", "_api_key", "_client", "_openai_route", "_verify")

    def __init__(self, litellm: ModuleType, provider: str | None,
                 api_base: str | None, api_key: str | None, *, verify: bool = True) -> None:
        """`api_base` and `api_key`: where the calls go and with which key, as the
        wrapper settled them (the OpenAI route needs both, or gets no client);
        `verify`: whether TLS certificates are checked."""
        self._verify = verify
        self._openai_route = _takes_openai_client(litellm, provider)
        self._api_base = api_base
        self._api_key = api_key
        self._client: Any = None

    def get(self) -> Any:
        """The client to pass (None: let LiteLLM pick its own)."""
        client = self._client
        if client is None:
            client = self._client = self._build()
            if client is None:
                return None
        if self._openai_route:
            deadline.install(client._client)
        else:
            deadline.install(client.client)  # the handler rebuilds it once closed
        return client

    def _build(self) -> Any:
        if not self._openai_route:
            from litellm.llms.custom_httpx.http_handler import HTTPHandler

            return HTTPHandler() if self._verify else HTTPHandler(ssl_verify=False)
        if not self._api_base or not self._api_key:
            return None  # the SDK would read its address or key from the environment
        import openai
        from litellm.llms.openai.openai import OpenAIChatCompletion

        if self._verify:
            http = OpenAIChatCompletion._get_sync_http_client()
        else:
            import httpx

            http = httpx.Client(verify=False, follow_redirects=True)
        if http is None:
            return None
        return openai.OpenAI(api_key=self._api_key, base_url=self._api_base,
                             http_client=http, max_retries=0)  # type: ignore[arg-type]
