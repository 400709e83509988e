"""VSS datatypes, the protobuf oneof each travels in, and the checks the real databroker makes.

A value inside the broker is a pair ``(kind, python_value)``: kind is the oneof field name shared
by kuksa.val.v1/v2 (``float``, ``uint32``, ``string_array``…); sdv.databroker.v1 spells scalar
kinds with a ``_value`` suffix.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias  # novermin: for the type checker only

# Quoted: a device's Python 3.8 cannot subscript builtins at run time (PEP 585 is 3.9); annotations only.
Value: TypeAlias = "tuple[str, Any]"

_SCALAR_KIND = {
    "string": "string",
    "boolean": "bool",
    "int8": "int32",
    "int16": "int32",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint32",
    "uint16": "uint32",
    "uint32": "uint32",
    "uint64": "uint64",
    "float": "float",
    "double": "double",
}
_INT_BOUNDS = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
DATATYPES = frozenset(list(_SCALAR_KIND) + [f"{name}[]" for name in _SCALAR_KIND])


class UpdateError(enum.Enum):
    """Why an update was refused; named after the real databroker's broker::UpdateError."""

    NOT_FOUND = "not_found"
    WRONG_TYPE = "wrong_type"
    OUT_OF_BOUNDS_TYPE = "out_of_bounds_type"
    OUT_OF_BOUNDS_ALLOWED = "out_of_bounds_allowed"
    OUT_OF_BOUNDS_MINMAX = "out_of_bounds_minmax"
    PERMISSION_DENIED = "permission_denied"
    PERMISSION_EXPIRED = "permission_expired"


def base_type(datatype: str) -> str:
    return datatype[:-2] if datatype.endswith("[]") else datatype


def is_array(datatype: str) -> bool:
    return datatype.endswith("[]")


def kind_of(datatype: str) -> str:
    kind = _SCALAR_KIND[base_type(datatype)]
    return f"{kind}_array" if is_array(datatype) else kind


# Per datatype: its kind, whether it is an array, its integer bounds; worked out once because
# every update is checked against them.
_TYPE_INFO = {
    datatype: (kind_of(datatype), is_array(datatype), _INT_BOUNDS.get(base_type(datatype)))
    for datatype in DATATYPES
}


def check(datatype: str, minimum: Any, maximum: Any, allowed: list[Any] | None, value: Value) -> UpdateError | None:
    """None when the value may be stored in a signal of this datatype and restrictions."""
    kind, data = value
    expected_kind, array, bounds = _TYPE_INFO[datatype]
    if kind != expected_kind:
        return UpdateError.WRONG_TYPE
    items = data if array else (data,)
    if bounds is not None and any(not bounds[0] <= item <= bounds[1] for item in items):
        return UpdateError.OUT_OF_BOUNDS_TYPE
    if allowed is not None and any(item not in allowed for item in items):
        return UpdateError.OUT_OF_BOUNDS_ALLOWED
    if minimum is not None and any(item < minimum for item in items):
        return UpdateError.OUT_OF_BOUNDS_MINMAX
    if maximum is not None and any(item > maximum for item in items):
        return UpdateError.OUT_OF_BOUNDS_MINMAX
    return None


def coerce_json(datatype: str, raw: Any) -> Value:
    """A JSON value (a VSS default) as a broker value of this datatype."""
    base = base_type(datatype)
    convert = {"string": str, "boolean": bool, "float": float, "double": float}.get(base, int)
    if is_array(datatype):
        return kind_of(datatype), [convert(item) for item in raw]
    return kind_of(datatype), convert(raw)
