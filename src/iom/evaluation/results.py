"""The base of every evaluation result: a Pydantic model (so the web API can declare it as a
response model) whose JSON keeps the shape the dicts it replaced had, and a ``summary()``."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, model_serializer, model_validator


def json_safe(obj):
    """NaN and infinity to None, numpy scalars to Python: statistics libraries produce both."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


class Result(BaseModel):
    """``lead`` fields come first in the JSON (e.g. the group a row is about); ``optional``
    sections are left out when absent, as the dicts left out sections not computed."""

    lead: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _json_safe(cls, data):
        return json_safe(data) if isinstance(data, dict) else data

    @model_serializer(mode="wrap")
    def _shape(self, handler):
        out = handler(self)
        if not isinstance(out, dict):
            return out
        for key in self.optional:
            if out.get(key, 0) is None:
                del out[key]
        if self.lead:
            out = {**{k: out[k] for k in self.lead if k in out}, **out}
        return out

    def summary(self) -> str:  # pragma: no cover - every result overrides it
        raise NotImplementedError
