"""Every feature code the code names ("The credit ledger (K3, R3) …") is defined in
docs/features.md, and the README sends readers there rather than outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ROOT / "docs" / "features.md"
CODE = re.compile(r"\b([GCSKPRIJEO][1-9][0-9]?)\b")  # C0 (control characters) is no feature
# A code is defined by its heading (``### G1 Guest profile``) or its row (``| I1 | …``).
DEFINED = re.compile(r"^(?:### |\| )([GCSKPRIJEO][0-9]{1,2})\b", re.MULTILINE)


def codes_in_code() -> dict[str, str]:
    """Each code named in the application's source, with one file that names it."""
    files = subprocess.run(
        ["git", "ls-files", "*.py", "*.html", "*.js"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found: dict[str, str] = {}
    for name in files:
        if name.startswith(("tests/", "bench/")) or "/migrations/" in name:
            continue
        for code in CODE.findall((ROOT / name).read_text(encoding="utf-8")):
            found.setdefault(code, name)
    return found


def test_every_code_the_code_names_is_defined_in_features_md() -> None:
    defined = set(DEFINED.findall(FEATURES.read_text(encoding="utf-8")))
    named = codes_in_code()
    assert named, "the scan found no feature codes at all"
    undefined = {code: where for code, where in named.items() if code not in defined}
    assert undefined == {}


def test_the_readme_links_features_md_and_nothing_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/features.md" in readme
    assert "../shared" not in readme
    assert "SPEC.md" not in readme
