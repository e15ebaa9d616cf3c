"""Text → AST: the Lark LALR parser over grammar/policy.lark, and a Transformer
that builds nodes.py dataclasses with absolute spans.

Lark errors are translated here, once, into PolicySyntaxError.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark import __version__ as lark_version
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import nodes as n
from . import types as T
from .errors import PolicyLimitError, PolicySyntaxError
from .source import Source, Span
from .values import WIDE, Duration, number_problem

MAX_LENGTH = 4000
MAX_DEPTH = 64            # bracket nesting
MAX_OPERATOR_DEPTH = 128  # nesting of operators in the parse tree, brackets included

_TOKEN_NAMES = {
    "RPAR": "')'", "LPAR": "'('", "RBRACE": "'}'", "LBRACE": "'{'", "RSQB": "']'", "LSQB": "'['",
    "COMMA": "','", "NAME": "名字 name", "INT": "整数 integer", "DECIMAL": "小数 decimal",
    "PERCENT": "百分数 percent", "MONEY": "金额 money", "DATE": "日期 date", "STRING": "字符串 string",
    "COMP_OP": "比较符 comparison", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'",
    "AND": "'and'", "OR": "'or'", "NOT": "'not'", "IN": "'in'", "IF": "'if'", "THEN": "'then'",
    "ELSE": "'else'", "WHERE": "'where'", "FOR": "'for'", "DOT": "'.'", "$END": "表达式结束 end of expression",
}


def grammar_text() -> str:
    """The grammar, from the installed package or, in a checkout, the top-level grammar/."""
    packaged = resources.files("policy_dsl").joinpath("grammar/policy.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "grammar" / "policy.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _lark() -> Lark:
    # Building the LALR tables (and strict mode's check that no two terminals collide) is most of
    # a first load; Lark keeps the built parser in our cache directory (policy_dsl.cache: the
    # user's own, mode 0700), keyed by the grammar, the options and Lark's version.
    return Lark(grammar_text(), parser="lalr", strict=True, propagate_positions=True, maybe_placeholders=True,
                cache=_lark_cache_file())


def _lark_cache_file() -> str | bool:
    from . import cache

    where = cache.cache_dir()
    if where is None:
        return False
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return str(where / f"lark-{lark_version}.pickle")


def parse_expression(text: str, source: Source | None = None, line: int = 1, column: int = 1,
                     block_indent: int = 0) -> n.Expr:
    """Parse one expression. `line`/`column` place its first character inside `source`."""
    if source is None:
        source = Source("<expression>", text)
    origin = (line, column, block_indent)
    if len(text) > MAX_LENGTH:
        raise PolicyLimitError(
            f"表达式过长：{len(text)} 个字符，上限 {MAX_LENGTH}", _span_at(source, origin, 1, 1, 1, 2),
            found=f"{len(text)} chars", expected=f"at most {MAX_LENGTH} chars")
    _check_depth(text, source, origin)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, source, origin) from None
    _check_tree_depth(tree, source, origin)
    try:
        return _ToAst(source, origin).transform(tree)
    except VisitError as exc:  # Lark wraps errors raised in callbacks
        raise exc.orig_exc from None


def _check_tree_depth(tree: Tree, source: Source, origin: tuple[int, int, int]) -> None:
    # Operator chains (1 + 1 + … , not not …) nest without brackets; measured without
    # recursion so that every later pass can recurse safely.
    stack = [(tree, 0)]  # the innermost value is not an operation
    while stack:
        node, depth = stack.pop()
        is_operation = any(isinstance(c, Tree) for c in node.children)
        if depth >= MAX_OPERATOR_DEPTH and is_operation:
            meta = node.meta
            span = _span_at(source, origin, meta.line, meta.column, meta.line, meta.column + 1) \
                if not meta.empty else None
            raise PolicyLimitError(f"表达式嵌套过深：超过 {MAX_OPERATOR_DEPTH} 层运算 expression nested too deeply", span,
                                   found=f"more than {MAX_OPERATOR_DEPTH} nested operations",
                                   expected=f"at most {MAX_OPERATOR_DEPTH}; split it into named definitions")
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _check_depth(text: str, source: Source, origin: tuple[int, int, int]) -> None:
    # Bracket nesting is the only way to nest deeply without a long text;
    # checking it before parsing keeps Python's recursion out of reach.
    depth, line, col = 0, 1, 0
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise PolicyLimitError(f"嵌套过深：超过 {MAX_DEPTH} 层括号", _span_at(source, origin, line, col, line, col + 1),
                                       found=f"more than {MAX_DEPTH} levels", expected=f"at most {MAX_DEPTH} levels of nesting")
        elif ch in ")]}":
            depth -= 1


def _span_at(source: Source, origin: tuple[int, int, int], line: int, col: int, end_line: int, end_col: int) -> Span:
    # Line 1 starts where the YAML scalar starts; later lines of a block scalar
    # are indented by block_indent in the file.
    o_line, o_col, indent = origin
    abs_col = col + o_col - 1 if line == 1 else col + indent
    abs_end = end_col + o_col - 1 if end_line == 1 else end_col + indent
    return Span(line + o_line - 1, abs_col, end_line + o_line - 1, abs_end, source)


def _syntax_error(exc: UnexpectedInput, text: str, source: Source, origin: tuple[int, int, int]) -> PolicySyntaxError:
    line, col = exc.line if exc.line > 0 else 1, exc.column if exc.column > 0 else len(text) + 1
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        line, col = _end_position(text)
        span = _span_at(source, origin, line, col, line, col + 1)
        expected = _expected(getattr(exc, "expected", set()))
        return PolicySyntaxError("表达式不完整 incomplete expression", span, found="表达式结束 end of expression", expected=expected)
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        span = _span_at(source, origin, line, col, line, col + 1)
        return PolicySyntaxError(f"无法识别的字符 {ch!r} unexpected character", span, found=repr(ch),
                                 expected=_expected(exc.allowed) if exc.allowed else None)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    span = _span_at(source, origin, line, col, line, col + max(1, len(str(tok))))
    hint = None
    if tok.type == "COMP_OP":
        hint = "比较不能连写：把 a < b < c 写成 a < b and b < c"
    return PolicySyntaxError(f"此处不应出现 {str(tok)!r} unexpected token", span, found=repr(str(tok)),
                             expected=_expected(_acceptable(exc)), hint=hint)


def _acceptable(exc: UnexpectedToken) -> set[str]:
    """What the parser could really take here (LALR's `expected` also lists tokens that a
    reduction would make impossible)."""
    try:
        return set(exc.interactive_parser.accepts()) - {"$END"} | ({"$END"} & set(exc.interactive_parser.accepts()))
    except Exception:  # noqa: BLE001 - fall back to Lark's own list
        return set(exc.expected)


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


_FIRST = ("NAME", "INT", "DECIMAL", "PERCENT", "MONEY", "DATE", "STRING", "LPAR", "RPAR", "COMP_OP", "$END")


def _expected(names: set[str] | frozenset[str]) -> str:
    # The most telling alternatives first (a name, a number, a bracket), keywords after.
    ordered = [x for x in _FIRST if x in names] + sorted(x for x in names if x not in _FIRST)
    shown = list(dict.fromkeys(_TOKEN_NAMES.get(x, x.lower()) for x in ordered if not x.startswith("__")))
    return ", ".join(shown[:12]) + (" …" if len(shown) > 12 else "")


_COMPARE = {"≤": "<=", "≥": ">=", "≠": "!="}
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n"}
_ESCAPES_TEXT = '\\" \\\' \\\\ \\n'
MAX_NUMBER_TEXT = 40
_UNITS = {"day": "day", "days": "day", "天": "day", "month": "month", "months": "month", "个月": "month",
          "year": "year", "years": "year", "年": "year"}


@v_args(meta=True, inline=True)
class _ToAst(Transformer):
    """Parse tree → nodes. Each method builds the node of the rule it is named after."""

    def __init__(self, source: Source, origin: tuple[int, int, int]) -> None:
        super().__init__()
        self.source, self.origin = source, origin

    def _span(self, meta) -> Span:
        return _span_at(self.source, self.origin, meta.line, meta.column, meta.end_line, meta.end_column)

    # literals: read in an explicit context (never the caller's) and within the number limits
    def _number(self, meta, tok: Token, value_of) -> object:
        if len(tok) > 4 * MAX_NUMBER_TEXT:  # before int()/Decimal(): huge digit strings are slow to convert
            value = None
        else:
            value = value_of(str(tok))
        problem = number_problem(value) if value is not None else "数字过长 number too long"
        if problem:
            raise PolicyLimitError(problem, self._span(meta), found=str(tok)[:40] + ("…" if len(tok) > 40 else ""),
                                   expected="整数部分最多 18 位、总共最多 28 位数字 at most 18 digits before the point, 28 in all")
        return value

    def integer(self, meta, tok: Token) -> n.Literal:
        return n.Literal(self._number(meta, tok, int), T.INT, str(tok), self._span(meta))

    def decimal(self, meta, tok: Token) -> n.Literal:
        return n.Literal(self._number(meta, tok, Decimal), T.DECIMAL, str(tok), self._span(meta))

    def percent(self, meta, tok: Token) -> n.Literal:
        value = self._number(meta, tok, lambda t: Decimal(t[:-1]).scaleb(-2, WIDE))
        return n.Literal(value, T.RATE, str(tok), self._span(meta))

    def money(self, meta, tok: Token) -> n.Literal:
        def read(text: str) -> Decimal:
            text = text[:-1]
            return WIDE.multiply(Decimal(text[:-1]), 10000) if text.endswith("万") else Decimal(text)
        return n.Literal(self._number(meta, tok, read), T.MONEY, str(tok), self._span(meta))

    def date(self, meta, tok: Token) -> n.Literal:
        try:
            value = date.fromisoformat(str(tok))
        except ValueError:
            raise PolicySyntaxError(f"不存在的日期 {tok} invalid date", self._span(meta), found=str(tok),
                                    expected="YYYY-MM-DD 的有效日期") from None
        return n.Literal(value, T.DATE, str(tok), self._span(meta))

    def duration(self, meta, amount: Token, unit: Tree) -> n.Literal:
        word = str(unit.children[0])
        count = self._number(meta, amount, int)
        return n.Literal(Duration(count, _UNITS[word]), T.DURATION, f"{amount} {word}", self._span(meta))

    def string(self, meta, tok: Token) -> n.Literal:
        raw = str(tok)[1:-1]
        return n.Literal(self._unescape(raw, meta) if "\\" in raw else raw, T.STRING, str(tok), self._span(meta))

    def _unescape(self, raw: str, meta) -> str:
        # Only the escapes the grammar documents; anything else is an error at its position,
        # never decoded some other way (\x41, \u00e9, \N{…} are not part of the language).
        out, i = [], 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\":
                nxt = raw[i + 1] if i + 1 < len(raw) else ""
                if nxt not in _ESCAPES:
                    col = meta.column + 1 + i
                    raise PolicySyntaxError(f"不支持的转义 {ch + nxt!r} unsupported escape",
                                            _span_at(self.source, self.origin, meta.line, col, meta.line, col + 2),
                                            found=ch + nxt, expected=_ESCAPES_TEXT)
                out.append(_ESCAPES[nxt])
                i += 2
            else:
                out.append(ch)
                i += 1
        return "".join(out)

    def true(self, meta) -> n.Literal:
        return n.Literal(True, T.BOOL, "true", self._span(meta))

    def false(self, meta) -> n.Literal:
        return n.Literal(False, T.BOOL, "false", self._span(meta))

    def set_lit(self, meta, *items) -> n.Collection:
        return n.Collection("set", tuple(i for i in items if i is not None), self._span(meta))

    def list_lit(self, meta, *items) -> n.Collection:
        return n.Collection("list", tuple(i for i in items if i is not None), self._span(meta))

    # names and calls
    def ref(self, meta, *parts: Token) -> n.Ref:
        return n.Ref(tuple(str(p) for p in parts), self._span(meta))

    def call(self, meta, name: Token, *args) -> n.Call:
        return n.Call(str(name), tuple(a for a in args if a is not None), self._span(meta))

    def quantifier(self, meta, kw: Tree, var: Token, coll, where) -> n.Aggregate:
        return n.Aggregate(str(kw.children[0]), str(var), coll, where, None, self._span(meta))

    def sum_over(self, meta, value, var: Token, coll, where) -> n.Aggregate:
        return n.Aggregate("sum", str(var), coll, where, value, self._span(meta))

    # operators
    def conditional(self, meta, cond, then, orelse) -> n.If:
        return n.If(cond, then, orelse, self._span(meta))

    def or_(self, meta, left, right) -> n.Or:
        return n.Or(left, right, self._span(meta))

    def and_(self, meta, left, right) -> n.And:
        return n.And(left, right, self._span(meta))

    def not_(self, meta, operand) -> n.Not:
        return n.Not(operand, self._span(meta))

    def compare(self, meta, left, op: Token, right) -> n.Compare:
        return n.Compare(_COMPARE.get(str(op), str(op)), left, right, self._span(meta))

    def member(self, meta, element, collection) -> n.Member:
        return n.Member(element, collection, False, self._span(meta))

    def not_member(self, meta, element, collection) -> n.Member:
        return n.Member(element, collection, True, self._span(meta))

    def add(self, meta, left, right) -> n.Arith:
        return n.Arith("+", left, right, self._span(meta))

    def sub(self, meta, left, right) -> n.Arith:
        return n.Arith("-", left, right, self._span(meta))

    def mul(self, meta, left, right) -> n.Arith:
        return n.Arith("*", left, right, self._span(meta))

    def div(self, meta, left, right) -> n.Arith:
        return n.Arith("/", left, right, self._span(meta))

    def neg(self, meta, operand) -> n.Expr:
        if isinstance(operand, n.Literal) and operand.type.kind in ("int", "decimal", "rate", "money"):
            value = operand.value.copy_negate() if isinstance(operand.value, Decimal) else -operand.value  # type: ignore[operator]
            return n.Literal(value, operand.type, "-" + operand.text, self._span(meta))  # type: ignore[operator]
        return n.Neg(operand, self._span(meta))
