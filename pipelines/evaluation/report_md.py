"""The report as Markdown (GitHub-flavoured: pipe tables, images beside the file)."""

from __future__ import annotations

from pipelines.evaluation.report import Heading, Image, Para, Report, Table


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def render_md(report: Report) -> str:
    out: list[str] = []
    for b in report.blocks:
        if isinstance(b, Heading):
            out.append("#" * (b.level + 1) + " " + b.text)
        elif isinstance(b, Para):
            if b.kind == "placeholder":
                out.append(f"> **{b.text}**")
            elif b.kind == "note":
                out.append(f"> {b.text}")
            elif b.kind == "subtitle":
                out.append(f"**{b.text}**")
            else:
                out.append(b.text)
        elif isinstance(b, Table):
            aligns = {"l": ":---", "c": ":---:", "r": "---:"}
            lines = ["| " + " | ".join(_cell(h) for h in b.header) + " |",
                     "| " + " | ".join(aligns[a] for a in b.align) + " |"]
            for i, row in enumerate(b.rows):
                cells = [_cell(c) for c in row]
                if b.bold_last and i == len(b.rows) - 1:
                    cells = [f"**{c}**" if c else c for c in cells]
                lines.append("| " + " | ".join(cells) + " |")
            out.append("\n".join(lines))
        elif isinstance(b, Image):
            out.append(f"![{b.caption}]({b.path.name})")
    return "\n\n".join(out) + "\n"
