"""Names and labels as Kubernetes takes them (the API server's validation rules), so a manifest the
export writes is never refused for a name: what comes from outside is checked here and refused
naming its option, and what SDV Studio derives is made to fit."""

from __future__ import annotations

import re

LABEL_MAX = 63
SUBDOMAIN_MAX = 253
# RFC 1123 label: object names (Deployment, ConfigMap, Namespace...) and a label key's name part's stricter kin.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# A label value, and a label key's name part (the part after an optional ``prefix/``).
_LABEL_PART = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def dns_label_problem(value: str) -> str | None:
    """Why ``value`` cannot name an object (RFC 1123 label), or None."""
    if len(value) > LABEL_MAX:
        return f"must be at most {LABEL_MAX} characters"
    if not _DNS_LABEL.fullmatch(value):
        return "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit"
    return None


def derived_name(base: str, suffix: str = "") -> str:
    """``base`` + ``suffix`` as an object name: ``base`` (a valid label) shortened so the whole fits."""
    room = LABEL_MAX - len(suffix)
    return base[:room].rstrip("-") + suffix


def label_value_problem(value: str) -> str | None:
    if len(value) > LABEL_MAX:
        return f"must be at most {LABEL_MAX} characters"
    if value and not _LABEL_PART.fullmatch(value):
        return "must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def label_key_problem(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > SUBDOMAIN_MAX or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return f"the prefix {prefix!r} must be a DNS subdomain (lowercase, e.g. example.com)"
    if not name:
        return "the key's name must not be empty"
    problem = label_value_problem(name)
    return f"the key's name {problem}" if problem else None


def parse_selector(items: list[str], option: str = "--node-selector") -> tuple[dict[str, str], list[str]]:
    """``KEY=VALUE`` items as a label map, and one problem per item Kubernetes would refuse (naming ``option``)."""
    selector: dict[str, str] = {}
    problems: list[str] = []
    for item in items:
        key, equals, value = item.partition("=")
        value_problem = label_value_problem(value)
        problem = ("must be KEY=VALUE, e.g. kubernetes.io/hostname=zone-front" if not equals
                   else label_key_problem(key) or (f"the value {value_problem}" if value_problem else None))
        if problem:
            problems.append(f"{option} {item}: {problem}")
        else:
            selector[key] = value
    return selector, problems
