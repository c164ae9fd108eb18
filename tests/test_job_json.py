"""queuekit.job's JSON: the compact encoder built once gives exactly the text of ``json.dumps`` with its options."""

from __future__ import annotations

import json
import math

import pytest

from queuekit.errors import ValidationError
from queuekit.job import encode_data, to_json

VALUES = [None, True, 0, -7, 2**70, 1.5, 1e-300, "", "ascii", "héllo ✓ 😀", "quote \" back\\slash \n tab\t",
          [], {}, [1, [2, [3]]], {"a": {"b": [1, "x", None]}, "é": 1.25}, ("tuple", 1)]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_text_is_json_dumps_text(value: object) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert to_json(value) == expected
    assert encode_data(value) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, {"x": [-math.inf]}])
def test_nan_and_infinity_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        to_json(value)
    with pytest.raises(ValidationError):
        encode_data(value)


def test_a_container_holding_itself_is_refused_by_name() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValidationError, match="holds itself"):
        encode_data({"a": loop})
