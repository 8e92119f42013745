"""Checks of settings that could otherwise only fail at a call: keys, URLs, proxies,
headers and query parameters. Each raises ValueError with a message that names what
is wrong and never quotes a secret."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["check_header_value", "check_key", "check_proxy", "check_url", "fold_client_args",
           "secret_entries", "split_password"]

# RFC 9110 field names: a token.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def check_key(value: str, what: str = "the key") -> None:
    """A key must be sent exactly as it is: no surrounding space, no line break."""
    if value != value.strip() or any(c in value for c in "\r\n\t\0"):
        raise ValueError(f"{what} has leading or trailing whitespace or a line break (a "
                         "YAML `|` block, or a key file read with its newline?): strip it")
    if not value.isascii() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} holds a character an HTTP header cannot carry")


def check_url(value: str, what: str = "base_url") -> None:
    """An http(s) URL with a host (and a valid port)."""
    from urllib.parse import urlsplit

    if not value.startswith(("http://", "https://")):
        raise ValueError(f"{what} must start with http:// or https://")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"{what} is not a valid URL ({exc})") from None
    if not parts.hostname:
        raise ValueError(f"{what} has no host")
    if parts.query or parts.fragment:
        raise ValueError(f"{what} holds a query or fragment; paths are appended to it, so "
                         "give query parameters in default_query instead")
    if _SPACE_OR_CONTROL.search(value):
        raise ValueError(f"{what} holds whitespace or control characters")
    del port


def check_proxy(value: str) -> None:
    """A proxy URL with a scheme httpx can use (socks needs httpx's socks extra)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises for a bad port)
    except ValueError as exc:
        raise ValueError(f"proxy is not a valid URL ({exc})") from None
    if parts.scheme not in _PROXY_SCHEMES or not parts.hostname:
        raise ValueError(f"proxy must be a URL such as http://host:3128, with a scheme of "
                         f"{', '.join(_PROXY_SCHEMES)}")
    if parts.scheme.startswith("socks"):
        import importlib.util

        if importlib.util.find_spec("socksio") is None:
            raise ValueError("a socks proxy needs httpx's socks support: "
                             "pip install 'httpx[socks]'")


def secret_entries(values: Mapping[str, Any], what: str, *, header: bool) -> dict[str, Any]:
    """Headers (or query parameters) checked, with the values whose name says they are
    secret made `SecretStr`."""
    from pydantic import SecretStr

    from modelhub._secrets import is_secret_name

    out: dict[str, Any] = {}
    for name, value in values.items():
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if header:
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{what} name {name!r} is not a valid header name")
            check_header_value(raw, f"{what} {name!r}")
        out[name] = SecretStr(raw) if is_secret_name(name) else raw
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a tab is allowed inside


def check_header_value(value: str, what: str) -> None:
    """A value an HTTP header can carry as it is (never quoted: it may be secret)."""
    if not value.isascii():
        raise ValueError(f"{what} holds non-ASCII characters; an HTTP header cannot carry "
                         "them (encode the value)")
    if _CONTROL.search(value):
        raise ValueError(f"{what} holds a control character or line break")
    if value != value.strip():
        raise ValueError(f"{what} has leading or trailing whitespace")


def split_password(url: str) -> tuple[str, str | None]:
    """`url` with the password of its user info masked, and that password."""
    from urllib.parse import urlsplit, urlunsplit

    from modelhub._secrets import MASK

    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}")), parts.password


def fold_client_args(config: Any, args: Any, folded: Mapping[str, str]) -> None:
    """Move what AgentScope's `client_args` holds (an SDK client's arguments, `args`)
    into the fields of `config` that mean the same (`folded`: argument -> field); for a
    config's model validator. Header and query dicts are merged, the top-level entries
    winning; a value given at both places with different values, or an argument this
    config has no field for, is a ValueError. Once folded, the field that held `args`
    is emptied: a secret is held in one place only (and shown masked there)."""
    from pydantic import SecretStr

    fields = type(config).model_fields
    for key, target in folded.items():
        value = getattr(args, key)
        if value is None:
            continue
        if target not in fields:
            raise ValueError(f"client_args.{key} is not valid for {config.model_type}")
        current = getattr(config, target)
        if isinstance(value, dict):
            value = secret_entries({**value, **current}, f"client_args.{key}",
                                   header=target == "headers")
        else:
            if isinstance(value, SecretStr):
                check_key(value.get_secret_value(), f"client_args.{key}")
            if target in config.model_fields_set and current != value:
                raise ValueError(f"{target!r} is given both at top level and as "
                                 f"client_args.{key}, with different values")
        object.__setattr__(config, target, value)
    holder = next((name for name in fields if getattr(config, name, None) is args), None)
    if holder is not None:
        object.__setattr__(config, holder, None)
