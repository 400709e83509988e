from __future__ import annotations

from sdv_studio.models.sizes import human_size


def test_sizes_read_as_the_guide_writes_them() -> None:
    assert [human_size(n) for n in (812, 812 * 1024, 512 * 2**20, int(2.5 * 2**20), int(7.6 * 2**30), 2**35)] == [
        "812B", "812KB", "512MB", "2.5MB", "7.6GB", "32GB"]
