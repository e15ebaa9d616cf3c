"""A small language server for rule files (`policy lsp`, over stdio; needs the `lsp` extra: pygls).

- Diagnostics: when a rule file is opened or saved, its set is loaded and checked exactly as
  `policy check` does, and every file of the set gets its errors and warnings (an empty list
  clears old ones). It reads the files on disk, so diagnostics follow saves, not keystrokes.
- Hover: over a parameter's name (where it is written or used), its value, bounds, delegation
  and citation; over a fact path such as unit.layoffs, its Chinese label and type.
- Completion: the name being typed, from the fact paths of the set's vocabulary (its declared
  facts included) with their Chinese labels, the items of the clause being edited, other
  clauses' items as clause.name, and the built-in functions with their signatures.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..errors import CheckFailed, PolicyError
from ..model import Parameter, RuleSet
from ..sets import MANIFEST
from ..functions import BUILTINS
from ..values import format_typed
from ..vocabulary import vocabulary

server = LanguageServer("policy-dsl", __version__)
_WORD = re.compile(r"[\w.\u3400-\u9fff（）]+")
_TYPED = re.compile(r"[\w.\u3400-\u9fff（）]*$")  # the name being typed, up to the cursor
_ROLES = {"parameter": "参数", "condition": "条件", "definition": "定义", "conclusion": "结论"}


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def set_dir(file: Path) -> Path | None:
    """The rule set a file belongs to: <set>/policy-set.yaml or <set>/clauses/<id>.yaml."""
    for candidate in (file.parent, file.parent.parent):
        if (candidate / MANIFEST).is_file():
            return candidate
    return None


def _range(error: PolicyError) -> types.Range:
    span = error.span
    if span is None:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    end_line = span.end_line if span.end_line >= span.line else span.line
    end_col = span.end_column if (end_line, span.end_column) > (span.line, span.column) else span.column + 1
    return types.Range(types.Position(span.line - 1, span.column - 1), types.Position(end_line - 1, end_col - 1))


def _message(error: PolicyError) -> str:
    lines = [error.message]
    if error.found is not None:
        lines.append(f"实际 found: {error.found}")
    if error.expected is not None:
        lines.append(f"应为 expected: {error.expected}")
    if error.hint:
        lines.append(error.hint)
    return "\n".join(lines)


def diagnostics(root: Path) -> dict[Path, list[types.Diagnostic]]:
    """Every file of the set → its diagnostics, as `policy check` finds them."""
    from ..checker import analyse
    from ..loader import load_rule_set

    files = [root / MANIFEST, *sorted((root / "clauses").glob("*.yaml"))]
    out: dict[Path, list[types.Diagnostic]] = {f.resolve(): [] for f in files}
    found: list[tuple[PolicyError, types.DiagnosticSeverity]] = []
    try:
        rs = load_rule_set(root)
        for d in analyse(rs).diagnostics:
            found.append((d.error, types.DiagnosticSeverity.Warning if d.severity == "warning"
                          else types.DiagnosticSeverity.Error))
    except CheckFailed as failed:
        found += [(e, types.DiagnosticSeverity.Error) for e in failed.diagnostics]
    except PolicyError as exc:
        found.append((exc, types.DiagnosticSeverity.Error))
    for error, severity in found:
        target = Path(error.span.source.name).resolve() if error.span and error.span.source else (root / MANIFEST).resolve()
        out.setdefault(target, []).append(types.Diagnostic(range=_range(error), message=_message(error),
                                                           severity=severity, source="policy check"))
    return out


def _publish(ls: LanguageServer, uri: str) -> None:
    root = set_dir(_path(uri))
    if root is None:
        return
    for file, diags in diagnostics(root).items():
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=file.as_uri(), diagnostics=diags))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)


def word_at(line: str, character: int) -> str | None:
    for m in _WORD.finditer(line):
        if m.start() <= character <= m.end():
            return m.group().strip(".")
    return None


def _parameter_text(p: Parameter, rs: RuleSet, cid: str) -> str:
    clause = rs.clauses[cid]
    value = format_typed(p.value, p.type.kind) if p.value is not None else \
        "；".join(f"{d}起 {format_typed(v, p.type.kind)}" for d, v in p.history) or "未填写"
    out = [f"**参数 {p.name}**（{p.type}）= {value}"]
    lo, hi = p.bounds
    if (lo, hi) != (None, None):
        out.append("范围：" + " ".join(([f"≥ {format_typed(lo, p.type.kind)}"] if lo is not None else []) +
                                     ([f"≤ {format_typed(hi, p.type.kind)}"] if hi is not None else [])))
    if p.delegated:
        out.append(f"委托：交由{p.delegated.to}确定——{p.delegated.reason}")
    cite = clause.cite(p.source, p.origin)
    if cite:
        out.append(f"出处：{cite.short()}" + (f"「{cite.text}」" if cite.text else ""))
    if p.origin and p.origin.set_name != rs.name:
        out.append(f"（来自 {p.origin.set_name}）")
    if p.note:
        out.append(p.note)
    return "\n\n".join(out)


def hover_text(file: Path, line: str, character: int) -> str | None:
    """Markdown for the word under the cursor in a rule file, or None."""
    from ..loader import load_rule_set

    word = word_at(line, character)
    root = set_dir(file)
    if not word or root is None:
        return None
    spec = vocabulary().facts.get(word)
    if spec is not None:
        return f"**事实 {word}**：{spec.zh}（{spec.type}）"
    try:
        rs = load_rule_set(root)
    except PolicyError:
        return None
    spec = rs.vocab.facts.get(word)   # a fact the set (or one it is built on) declares
    if spec is not None:
        return f"**事实 {word}**：{spec.zh}（{spec.type}）" + (f"\n\n由规则集 {spec.declared_in} 的 facts: 声明" if spec.declared_in else "") \
            + (f"\n\n{spec.doc}" if spec.doc else "")
    cid = file.stem if file.parent.name == "clauses" else None
    head, _, tail = word.partition(".")
    if tail and head in rs.clauses:
        cid, word = head, tail
    if cid in rs.clauses and word in rs.clauses[cid].parameters:
        return _parameter_text(rs.clauses[cid].parameters[word], rs, cid)
    return None


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
    document = ls.workspace.get_text_document(params.text_document.uri)
    lines = document.source.splitlines()
    if params.position.line >= len(lines):
        return None
    text = hover_text(_path(params.text_document.uri), lines[params.position.line], params.position.character)
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


def completions(file: Path, line: str, character: int) -> list[tuple[str, types.CompletionItemKind, str]]:
    """(name, kind, detail) of what may be written where the cursor is: every candidate that starts
    with the name typed so far. Read from the files on disk, like hover; when the set does not load
    (a file being edited is broken), the package's facts and the functions are still offered."""
    from ..loader import load_rule_set

    typed = _TYPED.search(line[:character])
    prefix = typed.group() if typed else ""
    root = set_dir(file)
    rs: RuleSet | None = None
    if root is not None:
        try:
            rs = load_rule_set(root)
        except PolicyError:
            rs = None
    facts = (rs.vocab if rs is not None else vocabulary()).facts
    out = [(path, types.CompletionItemKind.Variable, f"事实：{spec.zh}（{spec.type}）") for path, spec in facts.items()]
    out += [(b.name, types.CompletionItemKind.Function, f"函数 {b.signature}") for b in BUILTINS.values()]
    if rs is not None:
        here = file.stem if file.parent.name == "clauses" else None
        for cid, clause in rs.clauses.items():
            for name, item in clause.items().items():
                role = _ROLES.get(getattr(item, "role", "parameter"), "")
                detail = f"{role}（条款 {cid}）" if cid != here else role
                if isinstance(item, Parameter) and item.value is not None:
                    detail += f" = {format_typed(item.value, item.type.kind)}"
                kind = types.CompletionItemKind.Constant if isinstance(item, Parameter) else types.CompletionItemKind.Field
                out += [(label, kind, detail) for label in ([name, f"{cid}.{name}"] if cid == here else [f"{cid}.{name}"])]
    return [c for c in out if c[0].startswith(prefix)]


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["."]))
def completion(ls: LanguageServer, params: types.CompletionParams) -> types.CompletionList:
    document = ls.workspace.get_text_document(params.text_document.uri)
    lines = document.source.splitlines()
    line = lines[params.position.line] if params.position.line < len(lines) else ""
    found = completions(_path(params.text_document.uri), line, params.position.character)
    return types.CompletionList(is_incomplete=False, items=[types.CompletionItem(label=name, kind=kind, detail=detail)
                                                            for name, kind, detail in found])


def main() -> int:
    server.start_io()
    return 0


if __name__ == "__main__":  # pragma: no cover - `python -m policy_dsl.authoring.lsp`
    raise SystemExit(main())
