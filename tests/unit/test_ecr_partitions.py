"""assumer/ecr/partitions.py is botocore's partition data, as tests/tools/partitions.py writes it.

The committed table is a plain module (a cached push imports no botocore); this test
holds it to the installed botocore. When it fails after a botocore upgrade, run
``.venv/bin/python -m tests.tools.partitions > assumer/ecr/partitions.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assumer.ecr import partitions, registry
from tests.tools.partitions import botocore_partitions, render

TABLE = Path(partitions.__file__)


def test_the_committed_table_is_what_the_generator_writes_from_botocore() -> None:
    assert TABLE.read_text(encoding="utf-8") == render(botocore_partitions()), (
        "assumer/ecr/partitions.py is out of date: run "
        "'.venv/bin/python -m tests.tools.partitions > assumer/ecr/partitions.py'")


def test_every_partition_of_botocore_is_there() -> None:
    ids = {p.id for p in partitions.PARTITIONS}
    assert ids == {p["id"] for p in botocore_partitions()}
    assert {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"} <= ids


# Every region botocore lists (not its "-global" pseudo-regions), and regions no list has yet.
REGIONS = sorted({r for p in botocore_partitions() for r in p["regions"] if not r.endswith("-global")}
                 | {"ap-future-9", "cn-future-9", "us-gov-future-1", "us-iso-future-1", "us-isob-future-1"})


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_is_in_the_partition_botocore_puts_it_in(region: str) -> None:
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    resolver = EndpointResolver(create_loader().load_data("endpoints"))
    expected = resolver.get_partition_for_region(region)
    found = registry.region_partition(region)
    assert found is not None and found.id == expected


def test_the_default_registry_uses_botocores_dns_suffix() -> None:
    for part in botocore_partitions():
        region = next(r for r in sorted(part["regions"]) if not r.endswith("-global"))
        host = registry.default_host("123456789012", region)
        assert host == f"123456789012.dkr.ecr.{region}.{part['outputs']['dnsSuffix']}"
        found = registry.find_registry(host)
        assert found is not None and found.partition == part["id"], host
