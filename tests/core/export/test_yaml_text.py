"""The YAML the Ansible export writes reads back as the data it was made from (PyYAML: Ansible's reader)."""

from __future__ import annotations

import yaml

from sdv_studio.core.export.yaml_text import dump


def test_nested_data_reads_back_unchanged() -> None:
    data = {
        "plain_key": "value: with a colon, # a hash and 'quotes' \"too\"",
        "yes": "no",  # a YAML 1.1 boolean as a key stays a string
        "sdv@198.18.0.11:2222": {"ansible_port": 2222, "pipelining": True, "ratio": 0.5, "nothing": None},
        "jinja": "{{ sdv_prepared.uploads }}/broker-wheels",
        "shell": 'python3 "$HOME"/.local/share/sdv-studio/agent/entrypoint.py',
        "lines": "first\nsecond\ttabbed — ünïcode",
        "list": [1, "two", {"three": [3, {"deep": []}]}, [4, 5], {}],
        "empty": {},
    }
    assert yaml.safe_load(dump(data)) == data


def test_keys_stay_plain_where_yaml_reads_them_as_written() -> None:
    text = dump({"ansible_host": "10.0.0.1", "d1": 1, "on": 2, "2222": 3})
    assert text.splitlines() == ['ansible_host: "10.0.0.1"', "d1: 1", '"on": 2', '"2222": 3']
