"""项目支出绩效自评表: one per project of a unit-year (财预〔2020〕10号 附件), as XLSX.

`reports/<unit>/<year>/项目支出绩效自评表/<project_code>.xlsx` (a code no file system can
hold as a name has those characters as `_`, and `~2` when two would meet), one A4 page
each, in the look of the 部门整体 table (table_xlsx.py): 项目名称, 主管部门, 实施单位;
the funding block (年度资金总额 and the rules file's funding rows × 年初预算数, 全年预算数,
全年执行数, 分值, 执行率, 得分); 年度总体目标 (预期目标 | 实际完成情况, from the ledger's
项目 sheet); the project's indicators with 分值, 得分, 偏差原因; 总分 and 等级. All of
them are also the sheets of `项目支出绩效自评表.xlsx`. The public set (`…（公开版）`) has no
table for a 涉密 project, and its texts are masked as the public report's are.

Rendered in a worker process from plain data (scoring.ProjectEvaluation); text cells are
written with write_string, so a ledger's text is never taken for a formula.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import xlsxwriter

from pipelines.evaluation.figures import Figures
from pipelines.evaluation.numbers import round2, to_wan
from pipelines.evaluation.scoring import ProjectEvaluation
from pipelines.evaluation.table_xlsx import COLUMNS, LAST, LINE_PT, _lines, _rate, table_formats, write_goal_rows
from pipelines.evaluation.xlsx_sheets import Skeleton, SourceBook, assemble
from pipelines.files import write_in_place

TITLE = "项目支出绩效自评表"
FOLDER = TITLE
PUBLIC_FOLDER = f"{TITLE}（公开版）"
BOOK = f"{TITLE}.xlsx"
PUBLIC_BOOK = f"{TITLE}（公开版）.xlsx"
MISSING_GOAL = "（台账“项目”表未填写{}，请在“{}”列填写）"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _write_sheet(wb, ws, pe: ProjectEvaluation, fig: Figures, f: dict, grades: list[tuple[str, float]],
                 notes: list[str]) -> None:
    for col, (width, _) in enumerate(COLUMNS):
        ws.set_column(col, col, width)

    def text(r1, c1, r2, c2, value, fmt):
        if (r1, c1) != (r2, c2):
            ws.merge_range(r1, c1, r2, c2, "", fmt)
        ws.write_string(r1, c1, value or "", fmt)

    def number(r, c, value, fmt):
        if value is None:
            ws.write_blank(r, c, None, f["blank"])
        else:
            ws.write_number(r, c, float(value), fmt)

    ws.set_row(0, 26)
    text(0, 0, 0, LAST, TITLE, f["title"])
    text(1, 0, 1, LAST, f"（{fig.year}年度）", f["sub"])
    ws.set_row(2, 20)
    text(2, 0, 2, 1, "项目名称", f["label_bold"])
    text(2, 2, 2, LAST, f"{pe.name}（{pe.code}）", f["text"])
    ws.set_row(3, 20)
    text(3, 0, 3, 1, "主管部门", f["label_bold"])
    text(3, 2, 3, 4, f"{fig.unit_name}（{fig.unit_code}）", f["text"])
    text(3, 5, 3, 6, "实施单位", f["label_bold"])
    ws.write_string(3, 7, fig.unit_name + (f"（{pe.office}）" if pe.office else ""), f["text"])

    # The funding block (万元).
    r = 4
    text(r, 0, r, 1, "项目资金（万元）", f["head"])
    for c, name in enumerate(["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"], start=2):
        ws.write_string(r, c, name, f["head"])
    r += 1
    total, funding = pe.rows[0], pe.rows[1:]
    ws.set_row(r, 17)
    text(r, 0, r, 1, "年度资金总额", f["label_bold"])
    number(r, 2, to_wan(total.initial), f["wan_bold"])
    number(r, 3, to_wan(total.final), f["wan_bold"])
    number(r, 4, to_wan(total.spent), f["wan_bold"])
    number(r, 5, round2(pe.budget_points), f["score_bold"])
    number(r, 6, _rate(total.rate), f["pct_bold"])
    number(r, 7, round2(pe.budget_score), f["score_bold"])
    r += 1
    if funding:
        text(r, 0, r + len(funding) - 1, 0, "其中", f["label"])
        for row in funding:
            ws.set_row(r, 17)
            ws.write_string(r, 1, row.label, f["label"])
            number(r, 2, to_wan(row.initial), f["wan"])
            number(r, 3, to_wan(row.final), f["wan"])
            number(r, 4, to_wan(row.spent), f["wan"])
            ws.write_blank(r, 5, None, f["blank"])
            number(r, 6, _rate(row.rate), f["pct"])
            ws.write_blank(r, 7, None, f["blank"])
            r += 1

    goal = pe.goal or MISSING_GOAL.format("年度总体目标", "年度总体目标")
    result = pe.goal_result or MISSING_GOAL.format("实际完成情况", "实际完成情况")
    r = write_goal_rows(ws, r, goal, result, f, label_cols=2)

    # Indicators.
    text(r, 0, r, LAST, "绩效指标", f["band"])
    r += 1
    ws.set_row(r, 20)
    for c, (_, name) in enumerate(COLUMNS):
        ws.write_string(r, c, name, f["head"])
    r += 1
    inds = pe.indicators
    if not inds:
        text(r, 0, r, LAST, "（项目台账中无本项目的绩效指标）", f["text"])
        r += 1
    start = r
    for ind in inds:
        reason = "；".join(x for x in (ind.note, ind.reason_zh) if x)
        ws.write_string(r, 2, ind.name, f["text"])
        ws.write_string(r, 3, ind.target_display, f["label"])
        ws.write_string(r, 4, ind.actual_display, f["label"])
        number(r, 5, round2(ind.weight), f["score"])
        number(r, 6, round2(ind.score), f["score"])
        ws.write_string(r, 7, reason, f["text"])
        lines = max(_lines(ind.name, COLUMNS[2][0]), _lines(reason, COLUMNS[7][0]) if reason else 1)
        ws.set_row(r, max(18, LINE_PT * lines + 3))
        r += 1
    for col, key in ((0, lambda x: x.level1), (1, lambda x: (x.level1, x.level2))):
        i = 0
        while i < len(inds):
            j = i
            while j + 1 < len(inds) and key(inds[j + 1]) == key(inds[i]):
                j += 1
            text(start + i, col, start + j, col, inds[i].level1 if col == 0 else inds[i].level2, f["label"])
            i = j + 1

    ws.set_row(r, 22)
    text(r, 0, r, 4, "总分", f["label_bold"])
    number(r, 5, round2(pe.total_points), f["score_bold"])
    number(r, 6, round2(pe.total_score), f["score_bold"])
    ws.write_blank(r, 7, None, f["blank"])
    r += 1
    ws.set_row(r, 22)
    text(r, 0, r, 4, "评价等级", f["label_bold"])
    text(r, 5, r, LAST, pe.grade, f["grade"])
    r += 1

    grade_text = "，".join(f"{name}≥{lowest:g}分" for name, lowest in grades)
    for note in [*notes,
                 "说明：金额单位为万元；执行率 = 全年执行数 / 全年预算数；预算执行得分 = min(执行率, 1) × 分值；"
                 "资金来源各行按规则文件（rules.toml [[funding_rows]]）归集，上年结转资金优先使用。",
                 f"绩效指标得分按部门整体支出绩效自评表同一口径计算，超额完成不超过该指标分值；评价等级：{grade_text}，"
                 "以下为差，按总分评定（与部门整体支出绩效自评表相同；分值合计不是100分时不折算）。"
                 "数据来源：财务核算、预算指标与项目台账（fiscal-warehouse 生成）。"]:
        text(r, 0, r, LAST, note, f["warning"] if note.startswith("数据说明") else f["note"])
        ws.set_row(r, 11.5 * _lines(note, sum(w for w, _ in COLUMNS) * 1.2) + 2)
        r += 1

    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 1)  # one page
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.center_horizontally()
    ws.print_area(0, 0, r - 1, LAST)


def _sheet_name(code: str, used: set[str]) -> str:
    name = _SHEET_BAD.sub("_", code)[:31] or "项目"
    base, n = name, 2
    while name.lower() in used:
        suffix = f"~{n}"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _file_name(code: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", code).strip(". ") or "_"


def _file_names(codes: list[str]) -> dict[str, str]:
    """Project code -> the stem of its table's file: the code, or, where a file system cannot
    hold it (`/`, `:` …), the code with those characters as `_`; made unique with `~2`, `~3`,
    so that two projects (`A/B`, `A_B`) never write one file. A code that is a file name as
    it is keeps it."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for code in sorted(codes, key=lambda c: _file_name(c) != c):  # stable: otherwise in the tables' order
        base = name = _file_name(code)
        n = 2
        while name in used:
            name, n = f"{base}~{n}", n + 1
        used.add(name)
        names[code] = name
    return names


def _properties(fig: Figures) -> dict:
    return {"title": f"{fig.unit_name}{fig.year}年度{TITLE}", "author": "fiscal-warehouse"}


def _notes(fig: Figures) -> list[str]:
    if fig.quarantined is None:
        return []
    return [fig.quarantined.note()] if not fig.public else ["数据说明：部分导出数据尚待核实更正，本表数据为暂定数。"]


def write_project_tables(out: Path, internal: Figures, public: Figures, projects: list[ProjectEvaluation],
                         grades: list[tuple[str, float]], mask=lambda text: text) -> list[Path]:
    """Every project's table into `out/<FOLDER>/<code>.xlsx` and all of them into `out/<BOOK>`;
    the public set likewise into `out/<PUBLIC_FOLDER>` and `out/<PUBLIC_BOOK>` (no 涉密
    project, texts through `mask`). Tables of projects no longer there are removed.
    Returns the paths written.

    Each distinct sheet is written once (a public table is most often the internal one):
    xlsxwriter writes them into one source workbook, and every file is assembled from
    its sheets (xlsx_sheets.py)."""
    sets = []  # (figures, [(project as shown, index of its sheet)])
    keys: list[tuple] = []  # what a sheet shows: the project, the unit-year, the notes
    sheets: list[tuple[ProjectEvaluation, Figures, list[str]]] = []  # the distinct sheets
    for fig in (internal, public):
        shown = [p for p in projects if not (fig.public and p.secret)]
        if fig.public:
            shown = [_masked(p, mask) for p in shown]
        notes, picks = _notes(fig), []
        for pe in shown:
            key = (pe, fig.year, fig.unit_name, fig.unit_code, notes)
            if key not in keys:
                keys.append(key)
                sheets.append((pe, fig, notes))
            picks.append(keys.index(key))
        sets.append((fig, list(zip(shown, picks))))

    source_data = b""
    if sheets:
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, {"in_memory": True})  # no temporary file per part: most of its cost
        wb.set_properties(_properties(internal))
        f, used = table_formats(wb), set()
        for pe, fig, notes in sheets:
            _write_sheet(wb, wb.add_worksheet(_sheet_name(pe.code, used)), pe, fig, f, grades, notes)
        wb.close()
        source_data = buffer.getvalue()
        source = SourceBook.read(source_data)

    # A public file that shows what the internal one does, with the same properties, is
    # the same bytes: assembled once (most are, and the two books too when no project is 涉密).
    # Keyed by the sheet names too: a project's own file (one sheet, 自评表) and a book of that
    # one project (its sheet named after it) are not the same bytes.
    assembled: dict[tuple, bytes] = {}  # ((properties, sheet names), picks) -> the workbook
    skeletons: dict[tuple, Skeleton] = {}  # (properties, sheet names) -> its skeleton

    def workbook(fig: Figures, names: list[str], picks: list[int]) -> bytes:
        layout = (tuple(_properties(fig).items()), tuple(names))
        key = (layout, tuple(picks))
        if key not in assembled:
            if layout not in skeletons:
                skeletons[layout] = Skeleton.write(names, _properties(fig))
            assembled[key] = assemble(skeletons[layout], source, picks)
        return assembled[key]

    written: list[Path] = []
    for fig, shown in sets:
        folder = out / (PUBLIC_FOLDER if fig.public else FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        files: list[Path] = []
        if shown:
            stems = _file_names([pe.code for pe, _ in shown])
            for pe, pick in shown:
                files.append(write_in_place(folder / f"{stems[pe.code]}.xlsx", workbook(fig, ["自评表"], [pick])))
        keep = {p.name for p in files}
        for stale in folder.glob("*.xlsx"):
            if stale.name not in keep:
                stale.unlink()
        written.extend(files)

        book = out / (PUBLIC_BOOK if fig.public else BOOK)
        picks = [pick for _, pick in shown]
        if not shown:
            buffer = io.BytesIO()
            wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
            wb.set_properties(_properties(fig))
            wb.add_worksheet("无项目").write_string(0, 0, f"{fig.unit_name}{fig.year}年度无项目。")
            wb.close()
            data = buffer.getvalue()
        elif picks == list(range(len(sheets))) and _properties(fig) == _properties(internal):
            data = source_data  # the source workbook is this book
        else:
            used = set()
            data = workbook(fig, [_sheet_name(pe.code, used) for pe, _ in shown], picks)
        written.append(write_in_place(book, data))
    return written


def _masked(pe: ProjectEvaluation, mask) -> ProjectEvaluation:
    import dataclasses

    return dataclasses.replace(
        pe, name=mask(pe.name), goal=pe.goal and mask(pe.goal), goal_result=pe.goal_result and mask(pe.goal_result),
        indicators=[dataclasses.replace(i, name=mask(i.name), note=i.note and mask(i.note)) for i in pe.indicators])


def remove_project_tables(out: Path) -> int:
    """Delete the project tables of a unit-year's folder; returns how many files."""
    removed = 0
    for name in (BOOK, PUBLIC_BOOK):
        if (out / name).is_file():
            (out / name).unlink()
            removed += 1
    for name in (FOLDER, PUBLIC_FOLDER):
        folder = out / name
        if folder.is_dir():
            for path in folder.iterdir():
                path.unlink()
                removed += 1
            folder.rmdir()
    return removed
