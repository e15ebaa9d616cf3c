"""`policy batch SET INPUT`: every row of a register through the rules, one
output row (or one error row) per input row, and a Chinese summary.

Pipeline: reader (typed rows) → engine (evaluate_many, a chunk at a time) →
writer + errors writer + summary. Exit 0 when every row was evaluated, 1 when
some rows are in the errors file, 2 on usage errors (nothing written), 130 when
interrupted (nothing written).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import date
from typing import Iterator

from ..engine import CaseError, RuleEngine
from ..errors import PolicyError, UsageError, did_you_mean
from .engines import ENGINES
from .readers import Reader, Row, input_format, open_reader
from .render import JsonRows, TableShape
from .summary import Summary
from .writers import OUTPUT_FORMATS, ErrorsWriter, all_or_nothing, default_output, open_writer

INTERRUPTED = "已中断：没有写出任何结果文件（结果只在全部行处理完后才写出）。"
CHUNK = 1024  # cases handed to evaluate_many at a time: bounded memory, and a row that fails evaluation is isolated


@dataclass(frozen=True)
class Failed:
    """A row the engine could not evaluate (an evaluation error, not bad facts)."""

    problems: tuple[tuple[str, str], ...]


EPILOG = """示例 examples:
  policy batch fushun examples/register-fushun.csv --out 拨付清单.csv --clause stable_job_refund --keep unit.name
  policy batch fushun 名册.csv --encoding gb18030 --out 拨付清单.parquet --explain
  policy batch liaoning cases.jsonl --out decisions.jsonl --as-of 2021-09-01

退出码 exit codes:
  0  每一行都已求值 every row evaluated
  1  有错误行（见错误行文件，其余行照常输出）some rows are in the errors file
  2  用法错误：表头、条款名、文件、编码等，不写任何文件 usage error, nothing written
  130  被 Ctrl-C 或 kill 中断，不写任何文件 interrupted, nothing written

名册的写法、单元格格式和汇总的读法见 docs/batch.md。"""


def register(subparsers) -> None:
    b = subparsers.add_parser(
        "batch", help="批量求值：对名册中的每个单位求值，生成拨付清单 evaluate every row of a register",
        description="对参保单位名册（CSV / JSONL / Parquet）逐行求值；每个输入行对应一个输出行或一个错误行。",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("set", help="规则集目录或名称（如 fushun）")
    b.add_argument("input", help="名册：.csv（UTF-8，可带 BOM；GBK 导出的加 --encoding gb18030）、.jsonl 或 .parquet")
    b.add_argument("--out", help="结果文件（默认：输入文件名.decisions.<格式>）")
    b.add_argument("--errors", help="错误行文件（默认：<结果文件>.errors.jsonl）")
    b.add_argument("--format", choices=OUTPUT_FORMATS, help="结果格式（默认按 --out 的扩展名，否则 jsonl）")
    b.add_argument("--clause", nargs="+", metavar="ID", help="只输出这些条款（如 stable_job_refund）")
    b.add_argument("--as-of", type=_date, dest="as_of", help="评估日期 YYYY-MM-DD（覆盖名册中的 as_of 列）")
    b.add_argument("--encoding", default="utf-8", help="CSV / JSONL 的文字编码（默认 utf-8；GBK 导出用 gb18030）")
    b.add_argument("--keep", nargs="+", metavar="COLUMN", default=[],
                   help="把名册中的这些列原样带到 CSV / Parquet 结果中（如 unit.name、统一社会信用代码）")
    b.add_argument("--explain", action="store_true", help="每行附一句中文理由：起决定作用的条件及其出处")
    b.add_argument("--engine", choices=sorted(ENGINES), default="python", help="求值引擎：python（默认）或 duckdb（编译为 SQL，见 docs/sql.md）")
    b.set_defaults(func=run)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是日期 not a date (YYYY-MM-DD): {text}") from None


def run(args: argparse.Namespace) -> int:
    from ..engine import load

    fmt = args.format or _format_of(args.out)
    out = args.out or default_output(args.input, fmt)
    errors_path = args.errors or f"{out}.errors.jsonl"
    input_format(args.input)  # a usage error before the rule set is even loaded
    if os.path.abspath(out) == os.path.abspath(errors_path):
        raise UsageError(f"结果文件和错误行文件不能是同一个文件：{out}")
    for target in (out, errors_path):
        if os.path.abspath(target) == os.path.abspath(args.input):
            raise UsageError(f"输出文件不能是输入文件本身：{target}")
        if not os.path.isdir(os.path.dirname(os.path.abspath(target))):
            raise UsageError(f"输出目录不存在：{os.path.dirname(os.path.abspath(target))}")
    choice = ENGINES[args.engine]
    if args.explain and not choice.supports_trace:
        raise UsageError(f"引擎 {args.engine} 不支持 --explain；请用 --engine python")
    try:
        engine = load(args.set)
        if args.clause and not args.explain:
            # Only the chosen clauses are written: compute only them (a Decision then lists only them).
            # --explain keeps the whole set, since the clerk's report may read any item of the clause.
            engine = load(args.set, targets=_targets(engine, args.clause))
        reader = open_reader(args.input, engine.vocab, encoding=args.encoding, keep=tuple(args.keep))
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    try:
        if choice.run_file is not None:  # an engine that reads the whole file itself, when it can
            code = choice.run_file(args, engine, reader, fmt, out, errors_path)
            if code is not None:
                return code
        return _run(args, engine, choice.make(engine), reader, fmt, out, errors_path)
    finally:
        reader.close()


def _targets(engine: RuleEngine, asked: list[str]) -> tuple[str, ...]:
    clauses = chosen_clauses(engine, asked, None)  # a misspelt clause is a usage error here, before anything runs
    return tuple(f"{cid}.{name}" for cid in clauses for name in engine.rule_set.clauses[cid].conclusions)


def _format_of(out: str | None) -> str:
    if out:
        ext = os.path.splitext(out)[1].lower().lstrip(".")
        if ext in OUTPUT_FORMATS:
            return ext
    return "jsonl"


def chosen_clauses(engine: RuleEngine, asked: list[str] | None, subjects: frozenset[str] | None) -> tuple[str, ...]:
    """The clauses of tabular output and the summary: those asked for, else the ones a register of
    these subjects can be about (clauses about `always` repeat one answer on every row)."""
    clauses = engine.rule_set.clauses
    if asked:
        unknown = [c for c in asked if c not in clauses]
        if unknown:
            hints = [did_you_mean(c, clauses) for c in unknown]
            raise UsageError("没有这个条款：" + "、".join(unknown),
                             hint="；".join(h for h in hints if h) or "条款：" + "、".join(clauses))
        return tuple(c for c in clauses if c in asked)
    return tuple(cid for cid, c in clauses.items()
                 if c.conclusions and c.subject != "always" and (subjects is None or c.subject in subjects))


def _run(args, engine: RuleEngine, batch_engine, reader: Reader, fmt: str, out: str, errors_path: str) -> int:
    from .reason import row_reasons

    header = reader.header
    table = chosen_clauses(engine, args.clause, header.subjects if header else None)
    json_clauses = table if args.clause else tuple(engine.rule_set.clauses)
    shape = TableShape(engine, JsonRows(engine, table), tuple(args.keep), args.explain)
    summary = Summary(engine, table)
    progress = None
    try:
        with all_or_nothing() as files:
            writer = open_writer(fmt, out, JsonRows(engine, json_clauses), shape)
            files.append(writer.file)
            errors = ErrorsWriter(errors_path)
            files.append(errors.file)
            progress = _progress(reader)
            for row, result in _evaluated(batch_engine, reader.rows(), args.as_of, args.explain):
                if not wrote_problems(errors, summary, row, result):
                    reason = row_reasons(result, table) if args.explain else None
                    writer.write(row.number, row.kept, result, reason)
                    summary.add(result)
                if progress and summary.rows % 500 == 0:
                    progress.tick(summary.rows)
            if hasattr(writer, "finish"):
                writer.finish()
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    finally:
        if progress:
            progress.stop()
    print(summary.text(set_name=engine.name, source=args.input, out=out, errors_path=errors_path))
    return 1 if summary.errors else 0


def _evaluated(batch_engine, rows: Iterator[Row], as_of, trace: bool) -> Iterator[tuple[Row, object]]:
    """(row, result) for every row, in order: result is None for a row with problems of its own,
    else the engine's Decision or CaseError, or Failed."""
    chunk: list[Row] = []
    size = getattr(batch_engine, "chunk", CHUNK)  # an engine with a fixed cost per call asks for more
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield from _chunk(batch_engine, chunk, as_of, trace)
            chunk = []
    if chunk:
        yield from _chunk(batch_engine, chunk, as_of, trace)


def _chunk(batch_engine, chunk: list[Row], as_of, trace: bool) -> Iterator[tuple[Row, object]]:
    results = _results(batch_engine, [r.case for r in chunk if r.case is not None], as_of, trace)
    for row in chunk:
        yield row, (None if row.case is None else next(results))


def _results(batch_engine, cases: list[dict], as_of, trace: bool) -> Iterator[object]:
    start = 0
    while start < len(cases):
        try:
            for result in batch_engine.evaluate_many(iter(cases[start:]), as_of=as_of, trace=trace):
                yield result
                start += 1
        except PolicyError:
            # Some case from `start` on failed to evaluate; an engine may read ahead, so find which one alone.
            try:
                result = next(iter(batch_engine.evaluate_many([cases[start]], as_of=as_of, trace=trace)))
            except PolicyError as single:
                result = Failed((("", single.render()),))  # as the python engine reports it (CaseError "evaluation")
            yield result
            start += 1


def _value_at(case: dict | None, path: str) -> str:
    import json

    node: object = case
    for part in path.replace("[", ".").replace("]", "").split("."):
        if not part:
            continue
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return ""
    if node is None or node is case:
        return ""
    return node if isinstance(node, str) else json.dumps(node, ensure_ascii=False, default=str)


def wrote_problems(errors: ErrorsWriter, summary: Summary, row: Row, result: object) -> bool:
    """A row with problems of its own (result None) or a case the engine refused goes to the errors
    file with every problem's path and value; True when it did."""
    if result is None:
        errors.write(row.number, row.line, row.problems)
    elif isinstance(result, (CaseError, Failed)):
        errors.write(row.number, row.line, [(path, _value_at(row.case, path), message)
                                            for path, message in result.problems])
    else:
        return False
    summary.error()
    return True


class _Progress:
    def __init__(self, reader: Reader) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.reader = reader
        self.bar = Progress(TextColumn("[bold]求值"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                            TextColumn("{task.fields[rows]:,} 行 · {task.fields[rate]:,.0f} 行/秒"),
                            TimeElapsedColumn(), TextColumn("剩余"), TimeRemainingColumn(),
                            console=Console(file=sys.stderr), transient=True)
        done, total = reader.progress()
        self.task = self.bar.add_task("batch", total=total or 1, rows=0, rate=0.0)
        self.bar.start()

    def tick(self, rows: int) -> None:
        done, _ = self.reader.progress()
        elapsed = self.bar.tasks[0].elapsed or 0
        self.bar.update(self.task, completed=done, rows=rows, rate=rows / elapsed if elapsed else 0.0)

    def stop(self) -> None:
        self.bar.stop()


def _progress(reader: Reader) -> _Progress | None:
    return _Progress(reader) if sys.stderr.isatty() else None
