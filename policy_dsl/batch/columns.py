"""The header of a register: every column must be a fact path of the vocabulary
(or a column the user asked to carry through with --keep).

Checked before any row is read, so a misspelt column stops the run at once
(exit 2) with did-you-mean, instead of turning a whole city's register into
undetermined rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..errors import UsageError, did_you_mean
from ..vocabulary import Vocabulary
from .cells import Parser, parser_for


@dataclass(frozen=True)
class Column:
    index: int
    name: str                  # the header text
    path: str | None           # the fact path, or None for a kept non-fact column
    subject: str | None        # "unit" for unit.layoffs; None for as_of and kept columns
    field: str | None          # "layoffs"
    parse: Parser | None


@dataclass(frozen=True)
class Header:
    columns: tuple[Column, ...]
    keep: tuple[str, ...]      # column names copied to tabular output, in the order asked

    @property
    def facts(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.path is not None)

    @cached_property
    def plan(self) -> tuple[tuple, ...]:
        """(index, name, subject, field or whole path, parser) of each fact column, for the row loop."""
        return tuple((c.index, c.name, c.subject, c.field if c.subject else c.path, c.parse) for c in self.facts)

    @property
    def subjects(self) -> frozenset[str]:
        return frozenset(c.subject for c in self.columns if c.subject)


def read_header(names: list[str], vocab: Vocabulary, keep: tuple[str, ...], source: str) -> Header:
    """Type every column; raise UsageError naming every bad column at once."""
    problems: list[str] = []
    seen: set[str] = set()
    columns = []
    for index, raw in enumerate(names):
        name = raw.strip().lstrip("\ufeff")
        if not name:
            problems.append(f"第 {index + 1} 列没有列名")
            continue
        if name in seen:
            problems.append(f"列名 {name} 重复出现")
            continue
        seen.add(name)
        spec = vocab.facts.get(name)
        if spec is None:
            if name in keep:
                columns.append(Column(index, name, None, None, None, None))
                continue
            problems.append(_unknown_column(name, vocab))
            continue
        subject, _, field = name.partition(".")
        columns.append(Column(index, name, name, subject if field else None, field or None, parser_for(spec)))
    missing_keep = [k for k in keep if k not in seen]
    if missing_keep:
        problems.append("--keep 指定的列不在表头中：" + "、".join(missing_keep))
    if problems:
        raise UsageError(f"{source}: 表头有 {len(problems)} 处问题，未读取任何数据行\n"
                         + "\n".join(f"  {p}" for p in problems),
                         hint="列名应为事实路径（如 unit.layoffs，见 docs/batch.md）；"
                              "要把非事实列（如统一社会信用代码）带到输出中，用 --keep 列名")
    return Header(tuple(columns), keep)


def _unknown_column(name: str, vocab: Vocabulary) -> str:
    base = name.split("[")[0]
    for path, spec in vocab.facts.items():
        if spec.type.kind == "list" and (base.startswith(path + ".") or name.startswith(path + "[")):
            return (f"列 {name}：{path}（{spec.zh}）是成员列表（list of record），不能拆成 CSV 列；"
                    f"请用一列 {path}，单元格中写 JSON 数组，或改用 JSONL / Parquet 输入")
    by_label = [path for path, spec in vocab.facts.items() if spec.zh == name]
    if by_label:
        return f"列 {name} 是中文名；表头请写事实路径：{' 或 '.join(by_label)}"
    hint = did_you_mean(name, vocab.facts)
    return f"列 {name} 不是词汇表中的事实" + (f"；{hint}" if hint else "")
