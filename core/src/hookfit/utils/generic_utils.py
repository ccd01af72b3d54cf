"""Keras 2's ``keras.utils.generic_utils`` helpers that scripts and Keras's
own tests import."""

from __future__ import annotations

from typing import Any


def to_list(x: Any, allow_tuple: bool = False) -> list[Any]:
    """``x`` as a list: a list as it is, a tuple too when ``allow_tuple``,
    anything else wrapped in one."""
    if isinstance(x, list):
        return x
    if allow_tuple and isinstance(x, tuple):
        return list(x)
    return [x]


def unpack_singleton(x: Any) -> Any:
    """The only item of a one-item list or tuple; ``x`` otherwise."""
    if isinstance(x, (list, tuple)) and len(x) == 1:
        return x[0]
    return x


__all__ = ["to_list", "unpack_singleton"]
