"""One hand-off: a prototype's Python code and name, checked like any source before anyone sees it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sdv_studio.core.errors import InvalidInput
from sdv_studio.models.package import syntax_errors

MAX_CODE_BYTES = 1024**2  # one Python file; a playground prototype is a few KB
MAX_BODY_BYTES = 2 * MAX_CODE_BYTES + 64 * 1024  # JSON escaping may double the code
MAX_NAME_CHARS = 200
ENTRY_POINT = "main.py"  # what the code becomes in the package, and where its syntax errors point
_VSS = re.compile(r"v?(\d+(?:\.\d+){0,2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HandoffError(InvalidInput):
    """The hand-off cannot be shown; one line per problem, each naming its field."""


@dataclass(frozen=True)
class Handoff:
    code: str
    name: str  # the prototype's name as the page gave it
    origin: str  # the page's origin, or how it came (a link); shown to the user
    vss_version: str | None = None

    def syntax_problems(self) -> list[str]:
        """``main.py:LINE:COL: SyntaxError: …``: the code is shown anyway, with the error at its line."""
        return syntax_errors(ENTRY_POINT, self.code)


def parse_handoff(body: bytes, origin: str) -> Handoff:
    """A ``POST /api/handoff`` body (``{pythonCode, prototypeName, vssVersion?}``); raises HandoffError."""
    if len(body) > MAX_BODY_BYTES:
        raise HandoffError([f"body: larger than {MAX_BODY_BYTES // 1024} KB"])
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HandoffError([f"body: not JSON ({exc})"]) from exc
    if not isinstance(data, dict):
        raise HandoffError(["body: must be a JSON object"])
    return handoff_from_fields(data.get("pythonCode"), data.get("prototypeName"), data.get("vssVersion"), origin)


def handoff_from_fields(code: Any, name: Any, vss: Any, origin: str,
                        fields: tuple[str, str, str] = ("pythonCode", "prototypeName", "vssVersion")) -> Handoff:
    """The checks every way in shares; ``fields`` names the values as the caller's format spells them."""
    code_field, name_field, vss_field = fields
    problems: list[str] = []
    if not isinstance(code, str) or not code.strip():
        problems.append(f"{code_field}: required, the prototype's Python code")
    elif len(code.encode("utf-8", errors="surrogatepass")) > MAX_CODE_BYTES:
        problems.append(f"{code_field}: larger than {MAX_CODE_BYTES // 1024} KB")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{name_field}: required, the prototype's name")
    elif len(name) > MAX_NAME_CHARS or _CONTROL.search(name):
        problems.append(f"{name_field}: at most {MAX_NAME_CHARS} characters, on one line")
    version = None
    if vss is not None:
        match = _VSS.fullmatch(vss) if isinstance(vss, str) else None
        if match is None:
            problems.append(f"{vss_field}: a VSS release number such as 4.0")
        else:
            version = match.group(1)
    if problems:
        raise HandoffError(problems)
    assert isinstance(code, str) and isinstance(name, str)
    return Handoff(code=code, name=name.strip(), origin=origin, vss_version=version)
