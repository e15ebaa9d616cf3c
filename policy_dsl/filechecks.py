"""Checks of one clause file against its place: the file's name, its base set and the
vocabulary. A patch may only name what its base has, unless the item says `new: true`,
so a misspelt name is an error with a did-you-mean instead of a silent new item.
"""
from __future__ import annotations

from pathlib import Path

from .errors import RuleFileError, did_you_mean
from .model import Clause, RuleSet
from .vocabulary import vocabulary
from .yamlio import PosDict

_SECTIONS = {"parameters": "参数", "definitions": "定义", "conditions": "条件", "conclusions": "结论"}


def clause_file_problems(data: PosDict, file: Path, base: RuleSet | None) -> list[RuleFileError]:
    cid = str(data["id"])
    out: list[RuleFileError] = []
    known = list(base.clauses) if base else []
    if cid != file.stem:
        out.append(RuleFileError(
            f"条款 id {cid!r} 与文件名 {file.name} 不一致 the id differs from the file name", data["id"].span,
            found=cid, expected=file.stem,
            hint=did_you_mean(cid, [file.stem, *known]) or f"把文件改名为 {cid}.yaml，或把 id 改为 {file.stem}"))
    base_clause = base.clauses.get(cid) if base else None
    new = data.get("new") is True
    if base is not None and base_clause is None and not new:
        out.append(RuleFileError(
            f"{base.name} 没有条款 {cid!r}：补丁只能改写上级已有的条款 the base set has no such clause",
            data["id"].span, found=cid,
            hint=_either(did_you_mean(cid, known), "若是本规则集新增的条款，在文件中写 new: true")))
    if base is not None and base_clause is not None and new:
        out.append(RuleFileError(f"{base.name} 已有条款 {cid!r}，不能标为 new the base set has this clause",
                                 data.key_span("new"), hint="改写上级条款时去掉 new: true；整条替换用 replace: true"))
    if base_clause is None and (base is None or new) and _computable(data) and "subject" not in data and cid not in vocabulary().clauses:
        out.append(RuleFileError(
            f"新条款 {cid} 需要写 subject（适用对象） a new clause needs a subject", data["id"].span,
            expected="unit、person、graduate、household、honor、region 或 always",
            hint="没有 subject 的条款会适用于每一个案例；确实如此时写 subject: always"))
    if base_clause is not None and not data.get("replace", False):
        out += _patch_names(data, base_clause, base.name)  # type: ignore[union-attr]
    return out


def _either(did_you_mean: str | None, otherwise: str) -> str:
    return f"{did_you_mean}；{otherwise}" if did_you_mean else otherwise


def _computable(data: PosDict) -> bool:
    return str(data.get("kind", "computable")) == "computable"


def _patch_names(data: PosDict, base_clause: Clause, base_name: str) -> list[RuleFileError]:
    out = []
    for section, zh in _SECTIONS.items():
        written = data.get(section)
        if not isinstance(written, PosDict):
            continue
        existing = getattr(base_clause, section)
        for name, item in written.items():
            if section == "parameters" and name in existing and isinstance(item, dict) and not item:
                out.append(RuleFileError(
                    f"参数 {name} 写成了空的 {{}}：补丁中的空参数什么也不改 an empty parameter changes nothing",
                    written.key_span(name), hint=f"沿用 {base_name} 的值就删去这一行；要填写或改写就写 value"))
                continue
            new = isinstance(item, dict) and item.get("new") is True
            if name in existing and new:
                out.append(RuleFileError(f"{base_name} 的条款 {base_clause.id} 已有{zh} {name}，不能标为 new",
                                         item.key_span("new"), hint="改写上级已有的项目时去掉 new: true"))
            elif name not in existing and not new:
                elsewhere = [s for s in _SECTIONS if s != section and name in getattr(base_clause, s)]
                hint = (f"{name} 在 {base_name} 中是{_SECTIONS[elsewhere[0]]}，应写在 {elsewhere[0]} 下" if elsewhere else
                        _either(did_you_mean(name, existing),
                                f"若是本规则集新增的{zh}，写 {name}: {{{'value' if section == 'parameters' else 'expr'}: …, new: true}}"))
                out.append(RuleFileError(
                    f"{base_name} 的条款 {base_clause.id} 没有{zh} {name!r}：补丁只能改写上级已有的项目 "
                    f"the base clause has no such {section[:-1]}", written.key_span(name), found=name,
                    expected="、".join(existing) or f"（上级没有{zh}）", hint=hint))
    return out
