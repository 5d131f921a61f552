"""Hooks for the whole suite; no fixtures are shared between unit and integration tests.

- tests/unit: no fixtures from here; nothing starts a process, a shell or a service.
- tests/integration: marked ``integration`` here; their fixtures (the real services,
  ``aws_home``, the ECR services) are in tests/integration/conftest.py.
- Helpers (plain functions and classes) are in tests/tools/, imported by name.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so that ``tests.tools`` imports whatever the import mode
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test."""
    integration_dir = ROOT / "tests" / "integration"
    for item in items:
        if integration_dir in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)
