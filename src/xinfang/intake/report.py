"""What a file import answers, whichever file it was: all rows or none, every problem named, the counts if it went in.

Three imports report alike — petitions (intake.importer), the organisation (administration.organisation) and a
township's ledger sheet (prevention.importer) — so the CLI, the web pages and the API all read one frame: `ok`,
`filename`, the import's own figures, then `errors` (any one refuses the whole file) and `warnings` (the file went
in, a value was dropped or guessed). A clerk reads one kind of summary too: the failure line with the first errors,
or the done line with the first hints. Each import keeps its own issue type (an organisation problem names a sheet,
a petition problem a field); it only has to say itself as a line and as a dict.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

HINT_LINES = 20  # the summary shows the first warnings; the JSON has them all


class ReportIssue(Protocol):
    """One problem of one row (or of the whole file). Never quotes a cell: cells hold ID numbers and phones."""

    def text(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


IssueT = TypeVar("IssueT", bound=ReportIssue)


@dataclass(kw_only=True)
class FileImportReport(ABC, Generic[IssueT]):
    filename: str
    errors: list[IssueT] = field(default_factory=list)
    warnings: list[IssueT] = field(default_factory=list)

    error_lines: ClassVar[int] = 100  # the summary lists this many errors and counts the rest
    warnings_in_json: ClassVar[bool] = True  # False: an import that never warns (its JSON never had the key)

    @property
    def ok(self) -> bool:
        return not self.errors

    @abstractmethod
    def figures(self) -> dict[str, Any]:
        """The import's own facts and counts, in the order its JSON lists them between `filename` and `errors`."""

    @abstractmethod
    def done_line(self) -> str:
        """The summary's first line when the file went in."""

    def failure_line(self) -> str:
        return f"导入失败:{len(self.errors)} 处错误,整份文件未导入"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "ok": self.ok,
            "filename": self.filename,
            **self.figures(),
            "errors": [e.to_dict() for e in self.errors],
        }
        if self.warnings_in_json:
            out["warnings"] = [w.to_dict() for w in self.warnings]
        return out

    def summary(self) -> str:
        if self.errors:
            shown = self.errors[: self.error_lines]
            lines = [self.failure_line(), *(f"  {e.text()}" for e in shown)]
            if len(self.errors) > len(shown):
                lines.append(f"  …另有 {len(self.errors) - len(shown)} 处错误")
            return "\n".join(lines)
        return "\n".join([self.done_line(), *(f"  提示:{w.text()}" for w in self.warnings[:HINT_LINES])])


@dataclass(kw_only=True)
class RowsImportReport(FileImportReport[IssueT]):
    """A file of records (petitions, ledger entries): each row is either added or already there from an earlier
    import of the same file, which is how re-importing a file adds nothing."""

    rows_total: int
    rows_added: int = 0
    rows_existing: int = 0

    def count(self, created: bool) -> None:
        self.rows_added += created
        self.rows_existing += not created

    def row_figures(self) -> dict[str, int]:
        return {
            "rows_total": self.rows_total,
            "rows_added": self.rows_added,
            "rows_existing": self.rows_existing,
        }
