"""Source documents and quote verification.

Each document of a rule set may name its text (`text: source.md` in the manifest):
a Markdown file whose headings are article numbers (`### 一（三）`) and whose body
is the document's own wording. Every quote a rule file carries — a clause's or
parameter's `source.text`, a condition's `text`, an exception's `source.text` — must
be found word for word in the article it cites. Whitespace does not count (YAML
folds long quotes over lines, the document breaks lines where its pages did);
`……` marks an omission: each piece must appear, in order, in the cited article.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from .errors import PolicyError, RuleFileError, did_you_mean
from .model import Citation, Clause, RuleSet
from .source import Source, Span

ELLIPSIS = "……"
_SPACE = re.compile(r"\s+")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


class QuoteError(RuleFileError):
    """A quote that is not the cited article's wording, or cites an article the document lacks."""

    kind = "quote"
    label = "引文错误 quote error"


def squeeze(text: str) -> str:
    return _SPACE.sub("", text)


@dataclass(frozen=True)
class Article:
    id: str
    level: int
    text: str          # whitespace removed, the article's own body and its sub-articles'
    span: Span         # the heading in the document file


@dataclass(frozen=True)
class DocumentText:
    document: str
    path: str
    articles: dict[str, Article]
    whole: str


def read_document(path: str, document: str) -> DocumentText:
    """Parse a document file: each heading opens an article that runs to the next heading
    of the same or a higher level. Text before the first heading is an editor's note."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleFileError(f"无法读取原文文件 cannot read the document text {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RuleFileError(f"原文文件不是 UTF-8 编码 not UTF-8: {path}") from None
    return _parse_document(path, document, raw)


@lru_cache(maxsize=16)  # keyed by the text too: an edited file is parsed again
def _parse_document(path: str, document: str, raw: str) -> DocumentText:
    source = Source(path, raw)
    open_: list[tuple[str, int, Span, list[str]]] = []
    done: dict[str, Article] = {}
    whole: list[str] = []
    seen_heading = False

    def close(level: int) -> None:
        while open_ and open_[-1][1] >= level:
            aid, lvl, span, body = open_.pop()
            done[aid] = Article(aid, lvl, squeeze("".join(body)), span)

    for number, line in enumerate(raw.splitlines(), 1):
        m = _HEADING.match(line)
        if m:
            seen_heading = True
            level = len(m.group(1))
            close(level)
            aid = m.group(2)
            if aid in done or any(a == aid for a, *_ in open_):
                raise RuleFileError(f"原文文件中条目编号 {aid!r} 重复 duplicate article heading",
                                    Span(number, 1, number, len(line) + 1, source))
            open_.append((aid, level, Span(number, 1, number, len(line) + 1, source), []))
            continue
        if not seen_heading:
            continue
        for *_, body in open_:
            body.append(line)
        whole.append(line)
    close(0)
    top = [a for a in done.values() if a.level == 1]
    articles = {aid: a for aid, a in done.items() if a.level > 1 or len(top) != 1}
    return DocumentText(document, path, articles, squeeze("".join(whole)))


def resolve_articles(doc: DocumentText, ref: str) -> list[Article] | None:
    """The articles a citation names: one id, or several joined by 、 or ；
    (`五（十六）、一（一）`, `附件2 一、1；四（十三）`). None when a part is unknown."""
    if ref in doc.articles:
        return [doc.articles[ref]]
    out: list[Article] = []
    for part in (p.strip() for p in ref.split("；")):
        if part in doc.articles:
            out.append(doc.articles[part])
            continue
        tokens, i = part.split("、"), 0
        while i < len(tokens):
            for j in range(len(tokens), i, -1):  # longest id first: 附件2 一、1 before 附件2 一
                candidate = "、".join(tokens[i:j]).strip()
                if candidate in doc.articles:
                    out.append(doc.articles[candidate])
                    i = j
                    break
            else:
                return None
    return out


@dataclass(frozen=True)
class Quote:
    what: str                 # "条款出处" / "参数 X 的出处" / "条件 X 的原文" ...
    citation: Citation        # document and article, completed from the clause
    text: str                 # "" for a citation without a quote: only its article is looked up
    span: Span | None
    article_span: Span | None = None  # where the cited article is written, when apart from the quote


def quotes_of(rs: RuleSet) -> Iterator[Quote]:
    for clause in rs.clauses.values():
        yield from _clause_quotes(clause)


def _clause_quotes(clause: Clause) -> Iterator[Quote]:
    """Every quote, and every citation without one (its article must still exist)."""
    for own in clause.sources.values():
        yield Quote(f"条款 {clause.id} 的出处", own, own.text or "", own.span)
    for p in clause.parameters.values():
        cite = clause.cite(p.source, p.origin)
        if p.source is not None and cite is not None:
            yield Quote(f"参数 {p.name} 的出处", cite, p.source.text or "", p.source.span)
    for role, table in (("定义", clause.definitions), ("条件", clause.conditions), ("结论", clause.conclusions)):
        for item in table.values():
            cite = clause.cite(item.source, item.origin)
            if cite is None:
                continue
            if item.quote:
                own = item.source if item.source is not None and not item.source.text else None
                yield Quote(f"{role} {item.name} 的原文", cite, item.quote, item.quote_span, own.span if own else None)
            if item.source is not None and (item.source.text or not item.quote):  # the quote already checks the article
                yield Quote(f"{role} {item.name} 的出处", cite, item.source.text or "", item.source.span)
    for rule in clause.exceptions:
        cite = clause.cite(rule.source, rule.origin)
        if rule.source is not None and cite is not None:
            yield Quote(f"例外 {rule.id} 的出处", cite, rule.source.text or "", rule.source.span)


def check_quotes(rs: RuleSet) -> list[PolicyError]:
    """Every quote of the set against its document's text; documents without a text are skipped."""
    errors: list[PolicyError] = []
    texts: dict[str, DocumentText] = {}
    for doc in rs.documents.values():
        if doc.text_path:
            try:
                texts[doc.id] = read_document(doc.text_path, doc.id)
            except PolicyError as exc:
                errors.append(exc)
    seen: set[tuple[str, str, str, int, int]] = set()
    for q in quotes_of(rs):
        key = (q.what, q.citation.article or "", q.text,
               q.span.line if q.span else 0, q.span.column if q.span else 0)
        if key in seen:  # one item shared by a variant and its base is checked once
            continue
        seen.add(key)
        if q.citation.document and q.citation.document not in rs.documents:
            errors.append(QuoteError(f"{q.what}引用的文件 {q.citation.document!r} 不在规则集清单中 unknown document",
                                     q.article_span or q.span, found=q.citation.document,
                                     expected="、".join(rs.documents),
                                     hint=did_you_mean(q.citation.document, rs.documents)))
            continue
        doc = texts.get(q.citation.document or "")
        if doc is None:
            continue
        problem = verify(q, doc)
        if problem is not None:
            errors.append(problem)
    return errors


def verify(q: Quote, doc: DocumentText) -> QuoteError | None:
    where = f"{q.citation.document} {q.citation.article or ''}".strip()
    if q.citation.article:
        articles = resolve_articles(doc, q.citation.article)
        if articles is None:
            return QuoteError(f"{q.what}引用的条目 {q.citation.article!r} 在 {q.citation.document} 原文中不存在 no such article",
                              q.article_span or q.span, found=q.citation.article,
                              hint=did_you_mean(q.citation.article, doc.articles) or f"原文的条目编号见 {doc.path} 的标题行")
        bodies = [a.text for a in articles]
    else:
        articles, bodies = [], [doc.whole]
    quote = squeeze(q.text)
    if not quote:
        return None
    cursors = [0] * len(bodies)
    consumed = 0
    for piece in quote.split(ELLIPSIS):
        if not piece:
            consumed += len(ELLIPSIS)
            continue
        for i, body in enumerate(bodies):
            at = body.find(piece, cursors[i])
            if at >= 0:
                cursors[i] = at + len(piece)
                break
        else:
            if any(piece in body for body in bodies):
                return QuoteError(f"{q.what}中“……”前后的文字与 {where} 原文的顺序不同 quote pieces out of order",
                                  _point(q.span, q.text, consumed), found=piece,
                                  hint="“……”表示省略，省略号前后的文字须按原文的顺序出现",
                                  related=articles[0].span if articles else None)
            return _mismatch(q, where, piece, consumed, bodies, articles)
        consumed += len(piece) + len(ELLIPSIS)
    return None


def _mismatch(q: Quote, where: str, piece: str, offset: int, bodies: list[str],
              articles: list[Article]) -> QuoteError:
    """Where the quote leaves the text: the longest start of the piece that is in the article,
    and the passage of the article closest to the piece."""
    best_body, best_len, best_at = 0, 0, -1
    for i, body in enumerate(bodies):
        lo, hi = 0, len(piece)
        while lo < hi:  # being found is monotone in the prefix length
            mid = (lo + hi + 1) // 2
            if piece[:mid] in body:
                lo = mid
            else:
                hi = mid - 1
        if lo > best_len:
            best_body, best_len, best_at = i, lo, body.find(piece[:lo])
    body = bodies[best_body]
    if best_len >= 4:
        passage = body[best_at: best_at + len(piece) + 8]
    else:
        passage = _closest(piece, body)
    found = piece[best_len: best_len + 30] if best_len < len(piece) else piece
    return QuoteError(
        f"{q.what}与 {where} 原文不符 quote is not the cited article's wording",
        _point(q.span, q.text, offset + best_len), found=("……" if best_len else "") + found,
        expected=("……" if best_len else "") + passage[best_len: best_len + 30] if best_len >= 4 else None,
        hint=f"原文最接近的一段 closest passage：「{passage}」" if passage else "原文中找不到相近的文字，请核对引用的条目",
        related=articles[best_body].span if articles else None)


def _closest(piece: str, body: str) -> str:
    matcher = difflib.SequenceMatcher(None, body, piece, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= 2]
    if not blocks:
        return ""
    start = max(0, blocks[0].a - blocks[0].b)
    end = min(len(body), blocks[-1].a + blocks[-1].size + (len(piece) - blocks[-1].b - blocks[-1].size))
    return body[start:end]


def _point(span: Span | None, text: str, index: int) -> Span | None:
    """The file position of the index-th non-space character of a quote, found by walking the
    rule file from where the quote starts; the quote's own start when the walk loses its way
    (escapes in a double-quoted scalar)."""
    if span is None or span.source is None or index == 0:
        return span
    lines = span.source.text.splitlines(keepends=True)
    if span.line > len(lines):
        return span
    wanted = squeeze(text)
    line, col, seen = span.line, span.column, 0
    while line <= len(lines):
        row = lines[line - 1]
        while col - 1 < len(row):
            ch = row[col - 1]
            if not ch.isspace():
                if seen >= len(wanted) or ch != wanted[seen]:
                    return span
                if seen == index:
                    return Span(line, col, line, col + 1, span.source)
                seen += 1
            col += 1
        line, col = line + 1, 1
    return span
