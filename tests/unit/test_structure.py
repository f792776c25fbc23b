"""The structure itself: the import contracts of pyproject.toml's [tool.importlinter], run with the suite.

A domain module that imports a library, a handler that opens a session, notifications that reach
back into the scheduler, or a new import cycle fails here like a broken test does.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "scheduler.domain"


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("scheduler", "notifications", include_external_packages=True, cache_dir=None)


def test_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_the_domain_imports_the_standard_library_and_itself_only() -> None:
    # Stricter than a forbidden-list: any package outside the standard library counts, even one
    # that only arrives with another dependency.
    graph = _graph()
    imported: set[str] = set()
    for module in {DOMAIN} | graph.find_descendants(DOMAIN):
        imported |= graph.find_modules_directly_imported_by(module)

    outside = {name for name in imported
               if not name.startswith(f"{DOMAIN}.") and name.split(".")[0] not in sys.stdlib_module_names}
    assert outside == set()
    assert {"datetime", "zoneinfo", f"{DOMAIN}.intervals"} <= imported  # the graph did see the domain


def test_the_domain_contract_forbids_every_other_first_party_package() -> None:
    # The forbidden contract names modules one by one: a new package of the scheduler must join it.
    [domain_contract] = [contract for contract in _contracts() if contract.get("source_modules") == [DOMAIN]]
    forbidden = set(domain_contract["forbidden_modules"])

    siblings = _graph().find_children("scheduler") - {DOMAIN}
    assert siblings - forbidden == set()
    assert "notifications" in forbidden
