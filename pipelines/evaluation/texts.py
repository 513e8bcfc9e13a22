"""The narrative parts of the report, written by the department, one file per unit.

File: `<landing>/_texts/<unit_code>.md` (`Settings.texts_dir`; the loader skips folders
starting with `_`). UTF-8 Markdown with one `## <key>` heading per part; everything before
the first `##` is ignored (room for notes to the writer). Inside a part each non-empty
line is one paragraph. A part may have a public variant `## <key>（公开版）`, used instead
of `## <key>` in the public report (e.g. to leave out 涉密 work).

Keys (SECTIONS below): a required part that is missing prints a marked placeholder
telling who fills it where; a missing optional part prints nothing. The generator never
writes narrative itself.

Tokens filled from the warehouse, so prose never contradicts the figures:
`{单位名称}` `{单位编码}` `{年度}` `{编制数}` `{在职人数}` `{退休人数}`. Other braces are
left as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PUBLIC_SUFFIX = "（公开版）"

# key -> (required, where it goes in the report)
SECTIONS: dict[str, tuple[bool, str]] = {
    "职能职责": (True, "一、基本情况 (一)职能职责"),
    "机构设置": (True, "一、基本情况 (二)机构设置, before the staffing figures"),
    # The department's 年度总体目标 (预期目标) and how far it was met: the 自评表's 年度总体目标
    # row and 一、基本情况 (三) of the report (added 2026-11-29; a project's own come from the
    # ledger's 项目 sheet, columns 年度总体目标 / 实际完成情况).
    "年度总体目标": (True, "自评表 年度总体目标·预期目标; 一、基本情况 (三)年度总体目标及完成情况"),
    "年度总体目标完成情况": (True, "自评表 年度总体目标·实际完成情况; 一、基本情况 (三)年度总体目标及完成情况"),
    "基本支出管理情况": (False, "二、(一)基本支出, after the amounts by economic class"),
    "项目支出说明": (False, "二、(二)项目支出, after the list of projects"),
    "项目支出绩效情况": (False, "二、(三)项目支出绩效情况, after the indicator tables"),
    "绩效评价工作情况": (True, "三、绩效评价工作情况"),
    "评价结论补充": (False, "四、主要绩效及评价结论, after the generated analysis"),
    "存在的问题和建议": (True, "五、存在的问题和建议"),
}

_HEADING = re.compile(r"^##(?!#)\s*(.+?)\s*#*\s*$")
_TOKEN = re.compile(r"\{([^{}\s]+)\}")


@dataclass
class Texts:
    unit_code: str
    path: Path
    exists: bool
    sections: dict[str, str] = field(default_factory=dict)

    @property
    def shown_path(self) -> str:
        return f"_texts/{self.unit_code}.md"

    @property
    def unknown_keys(self) -> list[str]:
        return [k for k in self.sections if k.removesuffix(PUBLIC_SUFFIX) not in SECTIONS]

    def get(self, key: str, public: bool) -> str | None:
        """The part's text (public variant first in the public report), or None."""
        if key not in SECTIONS:
            raise KeyError(key)
        if public and self.sections.get(key + PUBLIC_SUFFIX, "").strip():
            return self.sections[key + PUBLIC_SUFFIX]
        text = self.sections.get(key)
        return text if text and text.strip() else None

    def placeholder(self, key: str) -> str:
        return f"（本部分由单位填写：在 {self.shown_path} 的 ## {key} 下填写）"


def parse_texts(text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            current = sections.setdefault(match.group(1).strip(), [])
        elif current is not None:
            current.append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def read_texts(texts_dir: Path, unit_code: str) -> Texts:
    path = Path(texts_dir) / f"{unit_code}.md"
    if not path.is_file():
        return Texts(unit_code, path, False)
    return Texts(unit_code, path, True, parse_texts(path.read_text(encoding="utf-8-sig")))


def paragraphs(text: str, tokens: dict[str, str]) -> list[str]:
    """The part's paragraphs (one per non-empty line) with the tokens filled."""
    def fill(match: re.Match) -> str:
        return tokens.get(match.group(1), match.group(0))

    return [_TOKEN.sub(fill, line.strip()) for line in text.splitlines() if line.strip()]
