"""Secrets never shown: what hookfit masks before a value reaches a message,
a report or a page.

Two kinds of secret are recognised, wherever they occur:

- a value whose key names a credential (``Authorization``, ``X-Api-Key``,
  ``token``, ``password``, ...), at any depth of a table;
- the password of a URL (``http://alice:hunter2@host``), inside any string.

Both become ``***``. The key rule is deliberately broad: a masked value that
was not secret costs a user a look at their own file; a secret printed to a
shared log cannot be taken back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "is_secret_key", "masked", "masked_text"]

MASK = "***"

_SECRET_KEY = re.compile(
    r"auth|key|token|secret|passw|passwd|pwd|cookie|credential|session|signature",
    re.IGNORECASE,
)
# scheme://user:password@  (the password is anything up to the last "@" of the
# authority; a backslash or a slash ends the authority, as HTTP clients read it)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^/\\\s:@]*:)(?P<pw>[^/\\\s]*)@")
# "user:password@host" with no scheme: what a user writes when they forget it
_BARE_PASSWORD = re.compile(r"^(?P<head>[^/\\\s:@]+:)(?P<pw>[^/\\\s]*)@(?=[^@]*$)")


def is_secret_key(key: object) -> bool:
    """True when a key's name says its value is a credential.

    Args:
        key: A table key, a header name or a dotted config path (its last
            part is the one read).
    """
    if not isinstance(key, str):
        return False
    return bool(_SECRET_KEY.search(key.rpartition(".")[2]))


def masked_text(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    if "@" not in text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)
    return _BARE_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)


def masked(value: Any, key: object = None) -> Any:
    """A copy of ``value`` that is safe to show.

    Args:
        value: Any value: a string, a number, a table, a list.
        key: The key (or dotted path) the value sits under, if any. A secret
            key masks the whole value, whatever its type.

    Returns:
        ``"***"`` for the value of a secret key; otherwise the value with
        every URL password masked and every secret key inside its tables
        masked, recursively. Values with nothing to mask are returned as
        they are (not copied).
    """
    if key is not None and is_secret_key(key) and value is not None:
        return MASK
    if isinstance(value, str):
        return masked_text(value)
    if isinstance(value, Mapping):
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(masked(v) for v in value)
    return value
