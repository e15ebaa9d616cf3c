"""`policy fmt`: rule files in one canonical form, comments kept.

A ruamel.yaml round trip keeps comments, quoting and flow style; on top of it:
- the top-level keys of a clause file come in the order the docs explain them in;
- a flow list wrapped over several lines becomes a block list (one on one line stays);
- a one-line expression is rewritten in canonical form (single spaces, no redundant
  parentheses) except that `and` inside `or` and an `if` inside an `if` keep their
  parentheses, which policy staff read more easily. Expressions laid out over several lines
  (`|` / `>` blocks) or containing a comment are left as written: their layout is the author's.
The result reads back to the same model (tests check parse(fmt(x)) == parse(x)) and a second
run changes nothing.
"""
from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from .. import nodes as n
from ..errors import PolicyError, RuleFileError, UsageError
from ..parser import parse_expression
from ..unparse import unparse

_NAMED = ("definitions", "conditions", "conclusions")


# The order the docs explain a clause file in (docs/rule-files.md §3). Inside a parameter or an
# item the author's order is kept: there is no order more readable than another (type, values, value).
WIDTH = 4096  # never re-wrap scalars: long Chinese quotes stay on their lines
CLAUSE_ORDER = ["id", "new", "replace", "title", "kind", "source", "departments", "period_by", "valid", "subject", "notes", "remove",
                "parameters", "definitions", "conditions", "conclusions", "exceptions"]


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = WIDTH
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def canonical(node: n.Expr) -> str:
    """Canonical text of an expression (see the module docstring for the two kept parentheses)."""
    return unparse(node, readable=True)


def _expression(value: object) -> object:
    """A one-line expression scalar in canonical form, keeping its quoting; anything else as is."""
    if not isinstance(value, str) or isinstance(value, (LiteralScalarString, FoldedScalarString)):
        return value
    if "\n" in value or "#" in value:
        return value
    try:
        text = canonical(parse_expression(value))
    except PolicyError:
        return value  # `policy check` reports it; fmt does not touch what it cannot read
    return value if text == value else type(value)(text)  # the same quoting style as written


def _reorder(mapping: object, order: list[str]) -> None:
    if not isinstance(mapping, CommentedMap):
        return
    keys = list(mapping)
    wanted = sorted(keys, key=lambda k: order.index(k) if k in order else len(order))
    if keys == wanted:
        return
    for key in wanted:
        mapping.move_to_end(key)


def format_clause(data: CommentedMap) -> None:
    _reorder(data, CLAUSE_ORDER)
    for section in _NAMED:
        table = data.get(section)
        if not isinstance(table, CommentedMap):
            continue
        for name in list(table):
            item = table[name]
            if isinstance(item, CommentedMap):
                if "expr" in item:
                    item["expr"] = _expression(item["expr"])
            else:
                table[name] = _expression(item)
    for rule in data.get("exceptions") or []:
        for key in ("when", "value"):
            if isinstance(rule, CommentedMap) and key in rule:
                rule[key] = _expression(rule[key])


def _wrapped_lists_as_blocks(node: object) -> None:
    """A flow list of scalars written over several lines becomes a block list (one item a line):
    the round trip cannot keep a flow list's line breaks and would join it into one long line.
    A flow list on one line stays as written."""
    if isinstance(node, CommentedMap):
        for value in node.values():
            _wrapped_lists_as_blocks(value)
    elif isinstance(node, CommentedSeq):
        lines = {node.lc.item(i)[0] for i in range(len(node))} if len(node) else set()
        if node.fa.flow_style() and len(lines) > 1 and all(not isinstance(v, (dict, list)) for v in node):
            node.fa.set_block_style()
        for value in node:
            _wrapped_lists_as_blocks(value)


def format_text(text: str, kind: str = "clause") -> str:
    """The canonical form of one rule file's text (`kind` "clause" or "manifest")."""
    y = _yaml()
    data = y.load(text)
    if kind == "clause" and isinstance(data, CommentedMap):
        format_clause(data)
    _wrapped_lists_as_blocks(data)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def rule_files(paths: list[str]) -> list[tuple[Path, str]]:
    """(file, kind) for each rule file under the given sets or files."""
    from ..sets import MANIFEST, resolve_set

    out: list[tuple[Path, str]] = []
    for p in paths:
        path = Path(p)
        if path.is_file():
            if path.name == MANIFEST:
                out.append((path, "manifest"))
            elif path.parent.name == "clauses" and path.suffix == ".yaml":
                out.append((path, "clause"))
            else:
                raise UsageError(f"{p} 不是规则文件 not a rule file", hint="policy fmt 只整理 policy-set.yaml 和 clauses/*.yaml")
            continue
        root = resolve_set(p) if not (path.is_dir() and not (path / MANIFEST).is_file()) else path
        if (root / MANIFEST).is_file():
            out.append((root / MANIFEST, "manifest"))
            out += [(f, "clause") for f in sorted((root / "clauses").glob("*.yaml"))]
        else:  # a directory of sets, such as policies/
            for manifest in sorted(root.glob(f"*/{MANIFEST}")):
                out.append((manifest, "manifest"))
                out += [(f, "clause") for f in sorted((manifest.parent / "clauses").glob("*.yaml"))]
    return out


def run_fmt(paths: list[str], check: bool) -> int:
    from ..sets import available_sets, resolve_set

    targets = rule_files(paths or [str(resolve_set(name)) for name in available_sets()])
    changed = []
    for file, kind in targets:
        text = file.read_text(encoding="utf-8")
        try:
            new = format_text(text, kind)
        except Exception as exc:  # noqa: BLE001 - a YAML error of ruamel: say where, in our terms
            raise RuleFileError(f"{file}: 无法整理 cannot format: {exc}".splitlines()[0],
                                hint="先运行 policy check 修正 YAML 错误") from None
        if new != text:
            changed.append(file)
            if not check:
                file.write_text(new, encoding="utf-8")
    verb = "需要整理 would reformat" if check else "已整理 reformatted"
    for file in changed:
        print(f"{verb}: {file}")
    print(f"{len(targets)} 个规则文件，{len(changed)} 个{'需要整理' if check else '已整理'}")
    return 1 if check and changed else 0
