"""The marts, each declared once beside its SQL: `sql/marts/<name>.toml` next to `sql/marts/<name>.sql`.

A mart is its SELECT, its declaration and its test; everything else that needs to know the
marts reads them from here: which marts there are and the order they are listed in
(transform.MART_MODELS), the order they are built in (from the tables their SQL reads,
pipelines.warehouse.lineage), the sort order inside each published file and the redaction
of the public copy (publish), the column descriptions and Chinese labels (dictionary: the
Dagster UI, the Parquet metadata, bi.duckdb, PostgreSQL, the XLSX exports, docs/marts.md).

A declaration (TOML; one file a mart, so that adding a mart adds two files side by side and
touches no shared list):

    title = "Spending by project"          # English title (docs, table comments)
    label = "项目支出"                       # Chinese title (XLSX sheet names)
    position = 2                           # where it is listed: docs, XLSX sheets, BI tables
    grain = "fiscal year × unit × project"
    keys = ["fiscal_year", "unit_code", "project_code"]
    sort = "project_code"                  # rows inside each published file, after unit_code
    public = "redacted"                    # "copy": marts_public holds the same rows;
                                           # "redacted": sql/marts_public/<name>.sql selects them
    notes = "…"                            # optional, for the docs
    [columns.project_code]                 # every column but the common ones, in the SELECT's order
    description = "…"
    label = "项目编码"
    [[questions]]                          # example queries for the docs (at least three)
    question = "…"
    sql = \"\"\"…\"\"\"

The columns every mart has (fiscal_year, unit_code, unit_name) are declared once, in
`sql/marts/_common.toml`. Reading the declarations fails at once, naming the file, when a SQL
file has no declaration or a declaration no SQL file, a key is missing or unknown, a key or
sort column is not a declared column, or `public` and `sql/marts_public/` disagree; building
a mart (or its redacted public copy) fails, naming the file and the column, when its SELECT
produces a column the declaration lacks or lacks one it declares (check_columns, called by
transform.build_mart).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.settings import SQL_DIR
from pipelines.warehouse.lineage import build_order

MARTS_DIR = SQL_DIR / "marts"
COMMON_FILE = "_common.toml"
PUBLIC_FOLDER = "marts_public"  # beside marts/: the public copies that differ

_REQUIRED = {"title", "label", "position", "grain", "keys", "sort", "public", "columns"}
_OPTIONAL = {"notes", "questions"}
_PUBLIC = ("copy", "redacted")


class DeclarationError(ValueError):
    """A mart's declaration disagrees with itself, with its SQL, or with sql/marts_public/."""


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    label: str  # Chinese header


@dataclass(frozen=True)
class Mart:
    name: str
    sql_file: Path
    declaration_file: Path
    title: str
    label: str
    position: int
    grain: str
    keys: tuple[str, ...]
    sort: str
    redacted: bool
    columns: tuple[Column, ...]  # the common columns first, then the mart's own, in the SELECT's order
    notes: str | None = None
    questions: tuple[dict, ...] = ()

    @property
    def public_sql_file(self) -> Path | None:
        """The public copy's SELECT, when it is redacted."""
        return self.sql_file.parent.parent / PUBLIC_FOLDER / self.sql_file.name if self.redacted else None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column_descriptions(self) -> dict[str, str]:
        return {c.name: c.description for c in self.columns}

    def column_labels(self) -> dict[str, str]:
        return {c.name: c.label for c in self.columns}

    def as_dictionary(self) -> dict:
        """The mart as the data dictionary's section (title, grain, keys, notes, columns, questions)."""
        section = {"title": self.title, "grain": self.grain, "keys": list(self.keys),
                   "columns": self.column_descriptions(), "questions": [dict(q) for q in self.questions]}
        if self.notes:
            section["notes"] = self.notes
        return section


def read_marts(marts_dir: Path = MARTS_DIR) -> dict[str, Mart]:
    """Every mart declared in `marts_dir` (a folder like sql/marts), listed by position."""
    common = _read_columns(marts_dir / COMMON_FILE, _read_toml(marts_dir / COMMON_FILE).get("columns"))
    sql_names = {p.stem for p in marts_dir.glob("*.sql")}
    declared = {p.stem for p in marts_dir.glob("*.toml") if p.name != COMMON_FILE}
    for name in sorted(sql_names - declared):
        raise DeclarationError(f"{marts_dir / (name + '.sql')}: no declaration {name}.toml beside it")
    for name in sorted(declared - sql_names):
        raise DeclarationError(f"{marts_dir / (name + '.toml')}: no SELECT {name}.sql beside it")
    marts = [_read_mart(marts_dir, name, common) for name in sorted(declared)]
    positions: dict[int, str] = {}
    for mart in marts:
        if mart.position in positions:
            raise DeclarationError(f"{mart.declaration_file}: position {mart.position} is also "
                                   f"{positions[mart.position]}'s")
        positions[mart.position] = mart.name
    public_dir = marts_dir.parent / PUBLIC_FOLDER
    for path in sorted(public_dir.glob("*.sql")):
        if path.stem not in declared:
            raise DeclarationError(f"{path}: a public copy of no declared mart")
    return {mart.name: mart for mart in sorted(marts, key=lambda m: m.position)}


def mart_build_order(marts: dict[str, Mart]) -> tuple[str, ...]:
    """The marts in an order in which each comes after the marts its SELECT reads (build.<mart>)."""
    return build_order({name: mart.sql_file.as_posix() for name, mart in marts.items()}, "build")


def check_columns(mart: Mart, produced: list[str], source: Path | None = None) -> None:
    """Fail, naming both files and the column, when what `source` (the mart's SQL unless
    given) produces is not what the declaration says."""
    source = source or mart.sql_file
    declared = mart.column_names
    missing = [c for c in declared if c not in produced]
    undeclared = [c for c in produced if c not in declared]
    problems = [f"column {c} is declared in {mart.declaration_file} but {source} does not produce it" for c in missing]
    problems += [f"column {c} is produced by {source} but not declared in {mart.declaration_file}" for c in undeclared]
    if problems:
        raise DeclarationError(f"mart {mart.name}: " + "; ".join(problems))


@cache
def marts() -> dict[str, Mart]:
    """The project's marts (sql/marts/), read once."""
    return read_marts(MARTS_DIR)


# ------------------------------------------------------------------ reading


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeclarationError(f"{path}: missing") from None
    except tomllib.TOMLDecodeError as error:
        raise DeclarationError(f"{path}: {error}") from None


def _read_columns(path: Path, table) -> tuple[Column, ...]:
    if not isinstance(table, dict) or not table:
        raise DeclarationError(f"{path}: no [columns.<name>] tables")
    columns = []
    for name, spec in table.items():
        if not isinstance(spec, dict) or set(spec) != {"description", "label"}:
            raise DeclarationError(f"{path}: column {name} needs exactly `description` and `label`")
        if not str(spec["description"]).strip() or not str(spec["label"]).strip():
            raise DeclarationError(f"{path}: column {name} has an empty description or label")
        columns.append(Column(name, spec["description"], spec["label"]))
    return tuple(columns)


def _read_mart(marts_dir: Path, name: str, common: tuple[Column, ...]) -> Mart:
    path = marts_dir / f"{name}.toml"
    data = _read_toml(path)
    if missing := sorted(_REQUIRED - set(data)):
        raise DeclarationError(f"{path}: missing {', '.join(missing)}")
    if unknown := sorted(set(data) - _REQUIRED - _OPTIONAL):
        raise DeclarationError(f"{path}: unknown {', '.join(unknown)} (known: {', '.join(sorted(_REQUIRED | _OPTIONAL))})")
    own = _read_columns(path, data["columns"])
    if clash := sorted({c.name for c in own} & {c.name for c in common}):
        raise DeclarationError(f"{path}: {', '.join(clash)} declared again (declared once in {COMMON_FILE})")
    columns = common + own
    names = {c.name for c in columns}
    if unknown_keys := [k for k in data["keys"] if k not in names]:
        raise DeclarationError(f"{path}: key column {', '.join(unknown_keys)} is not a declared column")
    if unknown_sort := [c for c in _sort_columns(data["sort"]) if c not in names]:
        raise DeclarationError(f"{path}: sort column {', '.join(unknown_sort)} is not a declared column")
    if data["public"] not in _PUBLIC:
        raise DeclarationError(f"{path}: public = {data['public']!r}, expected one of {', '.join(_PUBLIC)}")
    redacted = data["public"] == "redacted"
    public_sql = marts_dir.parent / PUBLIC_FOLDER / f"{name}.sql"
    if redacted != public_sql.exists():
        raise DeclarationError(
            f"{path}: public = {data['public']!r} but {public_sql} "
            + ("does not exist" if redacted else "exists (declare public = \"redacted\" or remove it)"))
    if not isinstance(data["position"], int):
        raise DeclarationError(f"{path}: position must be a whole number")
    return Mart(
        name=name, sql_file=marts_dir / f"{name}.sql", declaration_file=path, title=data["title"],
        label=data["label"], position=data["position"], grain=data["grain"], keys=tuple(data["keys"]),
        sort=data["sort"], redacted=redacted, columns=columns, notes=data.get("notes"),
        questions=tuple(data.get("questions", ())),
    )


def _sort_columns(sort: str) -> list[str]:
    """The column of each term of an ORDER BY list (`project_code NULLS FIRST, level1` -> both names)."""
    return [re.split(r"\s+", term.strip())[0] for term in sort.split(",") if term.strip()]
