"""Keeping secrets out of every surface: reprs, logs, errors, exports.

Two rules say what is a secret. In a config, a value is secret by its type
(`SecretStr`) or by an exact field name (`api_key`, `password`, ...: never a substring,
so `max_tokens` and `tokenizer` show as they are). An HTTP header or query parameter
is secret when a word of its name says so (`Authorization`, `x-api-key`,
`x-goog-api-key`, `?key=`); those values become `SecretStr` when a config is loaded.

`redact` removes known secret values from text, including a key cut short at the end
of a shortened message; `RedactingFilter` does it for log records, the HTTP library's
own included.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

__all__ = ["MASK", "RedactingFilter", "is_secret_field", "is_secret_name", "known_secrets",
           "mask_call", "mask_secrets", "protect_logger", "redact", "redact_any", "remember"]

MASK = "**********"

# Config fields (and keys of free-form dicts such as generate_args) holding a secret.
SECRET_FIELDS = frozenset({
    "api_key", "apikey", "api-key", "x-api-key", "x-goog-api-key", "key", "token",
    "access_token", "auth_token", "bearer_token", "secret", "secret_key", "client_secret",
    "password", "passwd", "authorization", "credentials", "private_key",
})
# Words that make a header or query parameter name a secret one.
_SECRET_WORDS = frozenset({"authorization", "auth", "key", "apikey", "token", "secret",
                           "password", "passwd", "cookie", "credential", "credentials",
                           "signature", "sig"})
_WORD = re.compile(r"[-_.\s]+")
# The least of a key that, cut off at the end of a shortened text, is still masked.
_MIN_PART = 8
# Query parameters in URLs that log lines quote.
_SECRET_QUERY = re.compile(
    r"([?&](?:api[_-]?key|key|token|access[_-]?token|auth|sig|signature|password)=)"
    r"[^&\s\"'#]+", re.IGNORECASE)


def is_secret_field(name: str) -> bool:
    """Whether a config field or dict key names a secret (by its exact name)."""
    return name.lower() in SECRET_FIELDS


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter name says it carries a secret."""
    return any(word in _SECRET_WORDS for word in _WORD.split(name.lower()))


def mask_secrets(value: Any) -> Any:
    """A copy of `value` with every secret replaced by a mask: `SecretStr` and
    `SecretBytes` values, and values under a secret field name, at any depth."""
    from pydantic import SecretBytes, SecretStr

    from modelhub._json import map_leaves

    def leaf(item: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(item, (SecretStr, SecretBytes)):
            return MASK
        if item not in (None, "") and any(isinstance(p, str) and is_secret_field(p)
                                          for p in path):
            return MASK
        return item

    return map_leaves(value, leaf)


# Keys of a call's arguments whose mapping is named like HTTP headers or a query string:
# an entry of one is secret when its name says so (`Authorization`, `X-Api-Key`).
_CARRIERS = ("headers", "query")


def _secret_at(path: tuple[str | int, ...]) -> bool:
    """Whether the value at `path` in a call's arguments is a secret by its name."""
    if any(isinstance(p, str) and is_secret_field(p) for p in path):
        return True
    if len(path) >= 2 and isinstance(path[-1], str) and isinstance(path[-2], str):
        return path[-2].lower().endswith(_CARRIERS) and is_secret_name(path[-1])
    return False


def mask_call(input: Any, params: Any, secrets: Iterable[str | None] = ()
              ) -> tuple[Any, Any, list[str]]:
    """A call's input (messages, texts or a prompt) and arguments as hooks, spans and
    the invocation log see them: copies in which every secret is masked. That is any
    `SecretStr`; any argument named like a secret (`api_key=`, `token=`) or, inside a
    `headers`/`extra_headers`/`extra_query` mapping, any entry whose name says it is one
    (`Authorization`, `X-Api-Key`); and every occurrence, anywhere in the input or the
    arguments, of such a value, of one of `secrets`, or of a key a live endpoint of the
    process holds (`remember`). Objects other than JSON values in them become plain
    data (their dump, or their repr) whenever there is a secret to look for. Returns
    the two copies and every secret looked for (longest first), to clean the rest of
    what is recorded about the call (its answer, its error) with."""
    from pydantic import SecretBytes, SecretStr

    from modelhub._json import map_leaves

    found = [s for s in secrets if s]

    def leaf(item: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(item, (SecretStr, SecretBytes)):
            value = item.get_secret_value()
            found.append(value if isinstance(value, str) else value.decode("latin-1"))
            return MASK
        if item not in (None, "") and _secret_at(path):
            if isinstance(item, str):
                found.append(item)
                found.extend(item.split()[1:])  # "Bearer sk-...": the bare token too
            return MASK
        return item

    masked_params = map_leaves(params, leaf)
    masked_input = map_leaves(input, leaf)
    found.extend(known_secrets())
    kept = sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)
    if not kept:
        return masked_input, masked_params, kept
    return redact_any(masked_input, kept), redact_any(masked_params, kept), kept


def _cut_parts(text: str, secret: str) -> str:
    """`text` with each run of at least _MIN_PART characters that begins `secret`
    masked (a key cut short by a shortened message)."""
    head = secret[:_MIN_PART]
    start = text.find(head)
    while start >= 0:
        end = start + _MIN_PART
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        text = text[:start] + MASK + text[end:]
        start = text.find(head, start + len(MASK))
    return text


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every occurrence of each secret (4+ characters) masked, and with
    any 8+ character beginning of a longer secret masked too."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        if secret in text:
            text = text.replace(secret, MASK)
        if len(secret) > _MIN_PART and secret[:_MIN_PART] in text:
            text = _cut_parts(text, secret)
    return text


def _plain(item: Any) -> Any:
    """An SDK's response object as plain data: a pydantic model or a dataclass dumped,
    anything else its repr (which may quote what the object holds)."""
    import dataclasses

    dump = getattr(item, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:  # a model that cannot dump itself: its repr, below
            pass
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return dataclasses.asdict(item)
    return repr(item)


def redact_any(value: Any, secrets: Iterable[str | None]) -> Any:
    """Like `redact`, through the strings of a decoded JSON value, keys included. Any
    other object in it (an SDK's response object) becomes plain data first, so no
    attribute of what is returned holds a secret."""
    from modelhub._json import map_leaves

    found = [s for s in secrets if s and len(s) >= 4]
    if not found:
        return value

    def one(item: Any, path: Any = ()) -> Any:
        if isinstance(item, str):
            return redact(item, found)
        if item is None or isinstance(item, (int, float, bool)):
            return item
        return redact_any(_plain(item), found)

    return map_leaves(value, one, key=one)


# -- logs ---------------------------------------------------------------------------------
class _Known:
    """The secrets of every live endpoint (held by their owners, dropped with them)."""

    def __init__(self) -> None:
        # Reentrant: a garbage collection while the owners are read can finalize an
        # object whose finalizer logs, and the log filter reads them again (same thread).
        self._lock = threading.RLock()
        self._owners: weakref.WeakKeyDictionary[Any, tuple[str, ...]] = \
            weakref.WeakKeyDictionary()

    def add(self, owner: Any, secrets: tuple[str, ...]) -> None:
        with self._lock:
            self._owners[owner] = secrets

    def all(self) -> list[str]:
        with self._lock:
            return sorted({s for values in self._owners.values() for s in values},
                          key=len, reverse=True)


_known = _Known()


def known_secrets() -> list[str]:
    """The secrets of every live endpoint of the process (`remember`), longest first."""
    return _known.all()


def remember(owner: Any, secrets: Iterable[str]) -> None:
    """Have log records redacted of `secrets` for as long as `owner` lives."""
    kept = tuple(s for s in secrets if s and len(s) >= 4)
    if kept:
        _known.add(owner, kept)


class RedactingFilter:
    """A logging filter that removes known secrets and secret query parameters from
    each record's message (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message when it holds a secret."""
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit: leave it to logging
            return True
        cleaned = redact(_SECRET_QUERY.sub(rf"\g<1>{MASK}", message), _known.all())
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_protected: set[str] = set()
_FILTER = RedactingFilter()


def protect_logger(*names: str) -> None:
    """Put the redacting filter on these loggers (once each). A logger's filters see only
    the records logged on it, so each logger that may quote a secret is named."""
    import logging

    for name in names:
        if name not in _protected:
            logging.getLogger(name).addFilter(_FILTER)
            _protected.add(name)


# Read by modelhub's own modules: the names of what they log under.
LOGGERS = ("modelhub", "httpx", "httpcore", "httpcore.connection", "httpcore.http11",
           "httpcore.http2", "httpcore.proxy", "httpx2", "httpcore2", "httpcore2.connection",
           "httpcore2.http11", "httpcore2.http2", "httpcore2.proxy", "httpcore2.socks")
