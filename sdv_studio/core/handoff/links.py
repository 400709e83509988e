"""``sdv-studio://open?name=…&code=…`` links: what a page puts in them and what the app takes out.

``code`` is the Python source, either percent-encoded text or base64url (read as such when the value
holds only base64url characters and decodes to UTF-8; Python source always has a space, a bracket or
a line break that base64url lacks). A multi-file prototype comes as ``files=…``, the JSON object of
its paths and texts encoded the same way, with ``entry=PATH`` when its entry point is not
``main.py``/``src/main.py``. Code too long for a link travels as ``ref=…``, a reference to what the
page first posted to the running app's hand-off endpoint (``POST /api/handoff/ref``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from sdv_studio.core.handoff.request import MAX_CODE_BYTES, Fields, Handoff, HandoffError, handoff_from_fields

SCHEME = "sdv-studio"
MAX_LINK_CHARS = 4 * MAX_CODE_BYTES // 3 + 4096  # the code as base64url, and the rest
LINK_FIELDS = Fields("code", "name", "vss", "files", "entry")
LINK_ORIGIN = "an sdv-studio:// link"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
REF = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class RefLink:
    """A link naming code the running app holds: ``sdv-studio://open?ref=…``."""

    ref: str


def is_link(text: str) -> bool:
    return text.lower().startswith(f"{SCHEME}:")


def parse_link(url: str) -> Handoff | RefLink:
    """The hand-off a link carries, or the reference it names; raises HandoffError."""
    if len(url) > MAX_LINK_CHARS:
        raise HandoffError([f"link: longer than {MAX_LINK_CHARS} characters; send the code as ref="])
    parts = urlsplit(url)
    action = parts.netloc or parts.path.strip("/")
    if parts.scheme.lower() != SCHEME or action != "open":
        raise HandoffError([f"link: expected {SCHEME}://open?name=…&code=…"])
    query = parse_qs(parts.query, keep_blank_values=True)
    repeated = sorted(key for key, values in query.items() if len(values) > 1)
    if repeated:
        raise HandoffError([f"link: {key} given more than once" for key in repeated])
    values = {key: vals[0] for key, vals in query.items()}
    if "ref" in values:
        if not REF.fullmatch(values["ref"]):
            raise HandoffError(["ref: not a hand-off reference"])
        return RefLink(values["ref"])
    fields: dict[str, object] = dict(values)
    fields["code"] = _text(values.get("code"))
    if "files" in values:
        fields["files"] = _tree(values["files"])
    return handoff_from_fields(fields, LINK_ORIGIN, LINK_FIELDS)


def _tree(value: str) -> object:
    try:
        return json.loads(_text(value) or "")
    except ValueError as exc:
        raise HandoffError([f"files: not the JSON object of paths and texts ({exc})"]) from exc


def _text(value: str | None) -> str | None:
    if value is None or not _BASE64URL.fullmatch(value):
        return value
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return value  # not base64url after all: plain text that happens to use only those characters


def build_link(name: str, code: str, vss_version: str | None = None) -> str:
    """The link a page would make for ``code`` (base64url, so line breaks survive every launcher)."""
    return _link({"name": name, "code": _base64url(code)}, vss_version)


def build_tree_link(name: str, files: Mapping[str, str], entry: str | None = None,
                    vss_version: str | None = None) -> str:
    """The link a page would make for a multi-file prototype."""
    fields = {"name": name, "files": _base64url(json.dumps(dict(files)))}
    if entry:
        fields["entry"] = entry
    return _link(fields, vss_version)


def _base64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _link(fields: dict[str, str], vss_version: str | None) -> str:
    if vss_version:
        fields["vss"] = vss_version
    return f"{SCHEME}://open?{urlencode(fields, quote_via=quote)}"


def ref_link(ref: str) -> str:
    return f"{SCHEME}://open?ref={ref}"
