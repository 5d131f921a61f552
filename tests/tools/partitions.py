"""Writes ``assumer/ecr/partitions.py`` from botocore's partition data (``partitions.json``).

assumer needs each partition's DNS suffix (the default ECR registry's host) and which
regions belong to it, without importing botocore on a cached push. So the table is a
plain Python module, generated here and compared with botocore's data by
tests/unit/test_ecr_partitions.py. After a botocore upgrade that test fails; then run

    .venv/bin/python -m tests.tools.partitions > assumer/ecr/partitions.py
"""

from __future__ import annotations

import textwrap
from typing import Any

HEADER = '''"""AWS partitions: id, DNS suffix, region pattern and known regions.

GENERATED from botocore's partitions.json by tests/tools/partitions.py (do not edit by
hand; tests/unit/test_ecr_partitions.py compares it with botocore's data). A plain
module, so that a cached push imports no botocore.
"""

from __future__ import annotations

from assumer.records import Record


class Partition(Record):
    """One partition: its id, DNS suffix, region pattern and the regions botocore knows."""

    id: str
    dns_suffix: str
    region_regex: str
    regions: tuple[str, ...]


PARTITIONS: tuple[Partition, ...] = (
'''


def botocore_partitions() -> list[dict[str, Any]]:
    """The ``partitions`` list of the installed botocore's ``partitions.json``."""
    from botocore.loaders import create_loader

    data: dict[str, Any] = create_loader().load_data("partitions")
    return list(data["partitions"])


def render(partitions: list[dict[str, Any]]) -> str:
    """The text of assumer/ecr/partitions.py for these partitions (sorted by id, regions sorted)."""
    lines = [HEADER]
    for part in sorted(partitions, key=lambda p: p["id"]):
        regions = textwrap.fill(" ".join(f"{r!r}," for r in sorted(part["regions"])), width=100,
                                initial_indent=" " * 14, subsequent_indent=" " * 14, break_on_hyphens=False)
        lines.append(f"    Partition({part['id']!r}, {part['outputs']['dnsSuffix']!r}, {part['regionRegex']!r}, (\n"
                     f"{regions}\n"
                     f"    )),\n")
    lines.append(")\n")
    return "".join(lines)


def main() -> None:
    import sys

    sys.stdout.write(render(botocore_partitions()))


if __name__ == "__main__":
    main()
