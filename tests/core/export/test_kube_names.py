"""Names and labels checked as the Kubernetes API server checks them."""

from __future__ import annotations

import pytest

from sdv_studio.core.export.kube_names import derived_name, dns_label_problem, label_value_problem, parse_selector


@pytest.mark.parametrize("name", ["a", "dog-mode", "0app", "a" * 63])
def test_valid_object_names(name: str) -> None:
    assert dns_label_problem(name) is None


@pytest.mark.parametrize(("name", "problem"), [
    ("a" * 64, "must be at most 63 characters"),
    ("Dog", "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit"),
    ("dog-", "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit"),
    ("dog.mode", "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit"),
    ("", "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit"),
])
def test_invalid_object_names(name: str, problem: str) -> None:
    assert dns_label_problem(name) == problem


def test_derived_names_fit_and_end_in_a_letter_or_digit() -> None:
    assert derived_name("dock", "-vss") == "dock-vss"
    long = derived_name("a" * 58 + "-bcdef", "-vss")  # cut at the hyphen: not left dangling
    assert long == "a" * 58 + "-vss" and dns_label_problem(long) is None


def test_label_values() -> None:
    assert label_value_problem("") is None and label_value_problem("1.0.0_rc.1") is None
    assert label_value_problem("1.0.0+build") == ("must be letters, digits, '-', '_' and '.', starting and ending "
                                                  "with a letter or digit")


def test_node_selectors_refused_naming_the_option_and_item() -> None:
    selector, problems = parse_selector(["kubernetes.io/hostname=zone-front", "zone=", "Example.com/zone=a",
                                         "/zone=a", "zone=front door", "zone"])
    assert selector == {"kubernetes.io/hostname": "zone-front", "zone": ""}
    assert problems == [
        "--node-selector Example.com/zone=a: the prefix 'Example.com' must be a DNS subdomain (lowercase, e.g. "
        "example.com)",
        "--node-selector /zone=a: the prefix '' must be a DNS subdomain (lowercase, e.g. example.com)",
        "--node-selector zone=front door: the value must be letters, digits, '-', '_' and '.', starting and ending "
        "with a letter or digit",
        "--node-selector zone: must be KEY=VALUE, e.g. kubernetes.io/hostname=zone-front"]
