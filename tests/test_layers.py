"""The layers hold, and import-linter's contracts (pyproject.toml) would catch an import that
breaks them: the real import graph of the code passes, and the same graph with one
forbidden import added fails."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import api
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
CONFIG = api.read_configuration(str(PYPROJECT))
KINDS = {"layers": LayersContract, "independence": IndependenceContract}


@pytest.fixture(scope="module")
def code_graph() -> grimp.ImportGraph:
    """Every import in the project's packages, as lint-imports reads them."""
    return grimp.build_graph(
        *CONFIG["session_options"]["root_packages"], include_external_packages=False, cache_dir=None
    )


@pytest.fixture
def graph(code_graph: grimp.ImportGraph) -> grimp.ImportGraph:
    return deepcopy(code_graph)


def kept(graph: grimp.ImportGraph, kind: str) -> bool:
    """Whether ``graph`` keeps the configured contract of ``kind``."""
    [options] = [c for c in CONFIG["contracts_options"] if c["type"] == kind]
    contract: Any = KINDS[kind](
        name=options["name"],
        session_options=CONFIG["session_options"],
        contract_options=options,
    )
    return bool(contract.check(graph, verbose=False).kept)


def add_import(graph: grimp.ImportGraph, importer: str, imported: str) -> None:
    graph.add_import(
        importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}"
    )


def test_the_layers_name_every_package_from_the_interfaces_down_to_the_kernel() -> None:
    [layers] = [c for c in CONFIG["contracts_options"] if c["type"] == "layers"]
    assert list(layers["layers"]) == [
        "interfaces",
        "campaigns",
        "channels_out",
        "guests",
        "crm_messaging",
    ]
    assert set(CONFIG["session_options"]["root_packages"]) == set(layers["layers"])


def test_the_code_keeps_both_contracts(graph: grimp.ImportGraph) -> None:
    assert kept(graph, "layers")
    assert kept(graph, "independence")


def test_a_downward_import_keeps_the_layers(graph: grimp.ImportGraph) -> None:
    add_import(graph, "campaigns.selectors", "guests.selectors")
    assert kept(graph, "layers")


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("crm_messaging.ui.screens", "guests.models"),  # the kernel imports no app
        ("guests.selectors", "channels_out.models"),  # the core knows nothing of sending
        ("channels_out.selectors", "campaigns.models"),  # sending never names campaigns
        ("campaigns.services.runs", "interfaces.portal.links"),  # no layer imports a screen
        ("guests.models.guest", "interfaces.frontdesk.views"),  # two layers up
    ],
)
def test_an_upward_import_breaks_the_layers(
    graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    add_import(graph, importer, imported)
    assert not kept(graph, "layers")


def test_an_interface_app_importing_another_breaks_their_independence(
    graph: grimp.ImportGraph,
) -> None:
    add_import(graph, "interfaces.frontdesk.views.messaging", "interfaces.marketing.views")
    assert kept(graph, "layers")  # still downward or sideways …
    assert not kept(graph, "independence")  # … but the front desk may not use marketing's code
