"""What an import did, or would do, row by row (I3): created, updated, unchanged or error,
each with its reason — the same structure for the dry run and the real run, so the dry run
staff confirm is the run they get."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from crm_messaging.i18n import Phrase, stored_words

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, ERROR)


@dataclass
class RowResult:
    line: int  # the row's line in the file (the heading is line 1)
    outcome: str
    label: str = ""  # who or what the row is: "Ayşe Yılmaz", "R0000042"
    reason: str = ""  # words that are not ours (a service's refusal), or an older report's
    words: list[dict[str, Any]] = field(default_factory=list)  # ours, in no language (Phrase)

    @property
    def text(self) -> str:
        """Why it failed or what changed, in the reader's language."""
        if not self.words:
            return self.reason
        return "; ".join(stored_words(words) for words in self.words)


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)

    def add(
        self, line: int, outcome: str, label: str = "", reason: str | Sequence[Phrase] = ""
    ) -> None:
        """Add a row's result; ``reason`` is our words (phrases) or words that are not ours."""
        if isinstance(reason, str):
            self.rows.append(RowResult(line, outcome, label, reason))
        else:
            self.rows.append(RowResult(line, outcome, label, words=[p.as_json() for p in reason]))

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(r.outcome for r in self.rows)
        return {outcome: tally.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.outcome == ERROR]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "dry_run": self.dry_run, "rows": [asdict(r) for r in self.rows]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportReport:
        return cls(
            kind=data["kind"],
            dry_run=data["dry_run"],
            rows=[RowResult(**row) for row in data["rows"]],
        )
