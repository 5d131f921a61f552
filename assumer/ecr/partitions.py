"""AWS partitions: id, DNS suffix, region pattern and known regions.

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
    Partition('aws', 'amazonaws.com', '^(us|eu|ap|sa|ca|me|af|il|mx)\\-\\w+\\-\\d+$', (
              'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2',
              'ap-northeast-3', 'ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2',
              'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6',
              'ap-southeast-7', 'aws-global', 'ca-central-1', 'ca-west-1', 'eu-central-1',
              'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2',
              'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1', 'me-west-1',
              'mx-central-1', 'sa-east-1', 'sa-west-1', 'us-east-1', 'us-east-2', 'us-west-1',
              'us-west-2',
    )),
    Partition('aws-cn', 'amazonaws.com.cn', '^cn\\-\\w+\\-\\d+$', (
              'aws-cn-global', 'cn-north-1', 'cn-northwest-1',
    )),
    Partition('aws-eusc', 'amazonaws.eu', '^eusc\\-(de)\\-\\w+\\-\\d+$', (
              'eusc-de-east-1',
    )),
    Partition('aws-iso', 'c2s.ic.gov', '^us\\-iso\\-\\w+\\-\\d+$', (
              'aws-iso-global', 'us-iso-east-1', 'us-iso-west-1',
    )),
    Partition('aws-iso-b', 'sc2s.sgov.gov', '^us\\-isob\\-\\w+\\-\\d+$', (
              'aws-iso-b-global', 'us-isob-east-1', 'us-isob-west-1',
    )),
    Partition('aws-iso-e', 'cloud.adc-e.uk', '^eu\\-isoe\\-\\w+\\-\\d+$', (
              'aws-iso-e-global', 'eu-isoe-west-1',
    )),
    Partition('aws-iso-f', 'csp.hci.ic.gov', '^us\\-isof\\-\\w+\\-\\d+$', (
              'aws-iso-f-global', 'us-isof-east-1', 'us-isof-south-1',
    )),
    Partition('aws-us-gov', 'amazonaws.com', '^us\\-gov\\-\\w+\\-\\d+$', (
              'aws-us-gov-global', 'us-gov-east-1', 'us-gov-west-1',
    )),
)
