"""The closing summary of a batch run, in Chinese: every row accounted for,
what each clause concluded, the payout, and what is still missing.

Counting is generic: every bool conclusion is tallied 是/否/未确定 and every
money conclusion summed over the rows where it is determined. A clause with a
payout rule (PAYOUTS) also gets a payout block: the amount is counted only for
rows that are eligible *and* either paid without application (免申即享) or
applied in time — an eligible unit that is not 免申即享 and applied late is
listed, never paid. Sums are exact Decimals.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..render.zh import Words
from ..values import Unknown
from .render import missing_label


@dataclass(frozen=True)
class Payout:
    eligible: str
    amount: str
    automatic: str      # paid without application (免申即享)
    in_time: str        # applied within the deadline
    payable: str        # the rule set's own verdict: eligible and (automatic or in_time)


# The clauses whose money conclusion is paid out, and the conclusions that gate the payment.
PAYOUTS = {
    "stable_job_refund": Payout(eligible="eligible", amount="amount", automatic="auto_pay",
                                in_time="application_in_time", payable="payable"),
}


def _payout_names(rule: Payout) -> tuple[str, ...]:
    return (rule.eligible, rule.amount, rule.automatic, rule.in_time, rule.payable)


def _kleene_payable(eligible: object, automatic: object, in_time: object) -> object:
    """eligible and (automatic or in_time), three-valued, for a rule set without a payable conclusion."""
    either = True if (automatic is True or in_time is True) else False if (automatic is False and in_time is False) \
        else None
    if eligible is False or either is False:
        return False
    return True if (eligible is True and either is True) else None


@dataclass
class Tally:
    applicable: int = 0
    bools: dict[str, Counter] = field(default_factory=dict)
    money: dict[str, Decimal] = field(default_factory=dict)
    money_known: Counter = field(default_factory=Counter)
    money_unknown: Counter = field(default_factory=Counter)
    payout: Counter = field(default_factory=Counter)        # group → rows
    payout_sum: dict[str, Decimal] = field(default_factory=dict)


def _state(value: object) -> str:
    return "true" if value is True else "false" if value is False else "unknown"


class Summary:
    def __init__(self, engine, clauses: tuple[str, ...]) -> None:
        self.engine = engine
        self.clauses = clauses
        self.rows = self.evaluated = self.errors = 0
        self.tallies = {cid: Tally() for cid in clauses}
        self.missing: Counter = Counter()
        self.reasons: dict[str, str] = {}
        self._plans: dict = {}  # Shape → what add reads of its Decisions (see _plan)
        self.kinds = {cid: {name: engine.slot_type(f"{cid}.{name}").kind
                            for name in engine.rule_set.clauses[cid].conclusions} for cid in clauses}
        self.watched = {cid: (tuple(n for n, k in kinds.items() if k == "bool"),
                              tuple(n for n, k in kinds.items() if k == "money")) for cid, kinds in self.kinds.items()}
        for cid, (bools, moneys) in self.watched.items():
            tally = self.tallies[cid]
            tally.bools = {name: Counter() for name in bools}
            tally.money = {name: Decimal(0) for name in moneys}

    def error(self) -> None:
        self.rows += 1
        self.errors += 1

    def add(self, decision) -> None:
        shape = decision._bare()
        if shape is not None:
            plan = self._plans.get(shape, False)
            if plan is False:
                if len(self._plans) > 256:  # bounded: an engine makes a few Shapes per program
                    self._plans.clear()
                plan = self._plans[shape] = self._plan(shape)
            if plan is not None:
                self._add_shaped(plan, decision._v)
                return
        self.rows += 1
        self.evaluated += 1
        missing: set[str] = set()
        for cid in self.clauses:
            result = decision.clauses[cid]
            if not result.applicable:
                continue
            tally = self.tallies[cid]
            tally.applicable += 1
            conclusions = result.conclusions
            for value in conclusions.values():
                if value.__class__ is Unknown:
                    missing |= value.missing  # type: ignore[attr-defined]
                    if value.reasons:  # type: ignore[attr-defined]
                        self.reasons.update(value.reasons)  # type: ignore[attr-defined]
            bools, moneys = self.watched[cid]
            for name in bools:
                tally.bools[name][_state(conclusions.get(name))] += 1
            for name in moneys:
                value = conclusions.get(name)
                if value.__class__ is Decimal:
                    tally.money[name] += value  # type: ignore[operator]
                    tally.money_known[name] += 1
                else:
                    tally.money_unknown[name] += 1
            rule = PAYOUTS.get(cid)
            if rule is not None:
                self._payout(tally, rule, conclusions)
        if missing:
            self.missing.update(missing)

    def _plan(self, shape) -> tuple | None:
        """What `add` reads of every Decision of one Shape: per applicable clause, its tally, the
        positions of its conclusions in the values list (or their constants), in the order `add`
        would read them. None: take the general path."""
        reported = {cid: (applicable, at) for cid, applicable, at in shape.reported}
        plan = []
        for cid in self.clauses:
            if cid not in reported:
                return None
            applicable, at = reported[cid]
            if not applicable:
                continue
            where = {name: (i, c) for name, i, c in at}
            if len(where) != len(at):
                return None
            tally = self.tallies[cid]
            bools, moneys = self.watched[cid]
            rule = PAYOUTS.get(cid)
            plan.append((tally, tuple(where.values()),
                         tuple((tally.bools[name], where.get(name, (-1, None))) for name in bools),
                         tuple((name, where.get(name, (-1, None))) for name in moneys),
                         rule, tuple((name, where[name]) for name in _payout_names(rule) if name in where) if rule else ()))
        return tuple(plan)

    def _add_shaped(self, plan: tuple, values: list) -> None:
        """`add` for a Decision read by its Shape's plan: the same counts, sums and missing facts."""
        self.rows += 1
        self.evaluated += 1
        missing: set[str] | None = None
        for tally, everything, bools, moneys, rule, gating in plan:
            tally.applicable += 1
            for i, constant in everything:
                value = values[i] if i >= 0 else constant
                if value.__class__ is Unknown:
                    if missing is None:
                        missing = set()
                    missing |= value.missing  # type: ignore[attr-defined]
                    if value.reasons:  # type: ignore[attr-defined]
                        self.reasons.update(value.reasons)  # type: ignore[attr-defined]
            for counts, (i, constant) in bools:
                value = values[i] if i >= 0 else constant
                counts["true" if value is True else "false" if value is False else "unknown"] += 1
            for name, (i, constant) in moneys:
                value = values[i] if i >= 0 else constant
                if value.__class__ is Decimal:
                    tally.money[name] += value  # type: ignore[operator]
                    tally.money_known[name] += 1
                else:
                    tally.money_unknown[name] += 1
            if rule is not None:
                self._payout(tally, rule, {name: values[i] if i >= 0 else c for name, (i, c) in gating})
        if missing:
            self.missing.update(missing)

    @staticmethod
    def _payout(tally: Tally, rule: Payout, c: dict) -> None:
        if c.get(rule.eligible) is not True:
            return
        automatic, amount = c.get(rule.automatic), c.get(rule.amount)
        payable = c[rule.payable] if rule.payable in c else _kleene_payable(True, automatic, c.get(rule.in_time))
        if payable is True:
            group = "automatic" if automatic is True else "applied"
        elif payable is False:
            group = "late"  # eligible, not 免申即享, applied after the deadline
        else:
            group = "pending"
        tally.payout[group] += 1
        if isinstance(amount, Decimal):
            tally.payout_sum[group] = tally.payout_sum.get(group, Decimal(0)) + amount
        else:
            tally.payout[group + "_unknown_amount"] += 1

    # --- text ---------------------------------------------------------------------------------
    def text(self, *, set_name: str, source: str, out: str | None, errors_path: str | None) -> str:
        vocab = self.engine.vocab
        lines = [f"批量求值 policy batch · 规则集 {set_name} · 输入 {source}"]
        lines.append(f"行数：共 {self.rows:,} 行 = 已求值 {self.evaluated:,} 行 + 错误 {self.errors:,} 行")
        if out:
            lines.append(f"结果：{out}")
        if errors_path:
            lines.append(f"错误行：{errors_path}" + ("（无）" if not self.errors else "（每行写明行号、列和原因，未跳过任何行）"))
        for cid in self.clauses:
            tally = self.tallies[cid]
            spec = vocab.clauses.get(cid)
            labels = Words(self.engine).conclusion_labels(cid)  # a set's own conclusions by their rule-file label
            title = spec.zh if spec else self.engine.rule_set.clauses[cid].title
            lines.append(f"{title}（{cid}）：适用 {tally.applicable:,} 行")
            if not tally.applicable:
                continue
            rule = PAYOUTS.get(cid)
            for name, counts in tally.bools.items():
                if rule and name in (rule.automatic, rule.in_time, rule.payable):
                    continue  # told in the payout block
                lines.append(f"  {labels.get(name, name)}（{name}）：是 {counts['true']:,} 行，否 {counts['false']:,} 行，"
                             f"未确定 {counts['unknown']:,} 行")
            if rule:
                lines.extend(self._payout_text(tally, rule, labels))
            for name in self.kinds[cid]:
                if self.kinds[cid][name] != "money" or (rule and name == rule.amount):
                    continue
                known, unknown = tally.money_known[name], tally.money_unknown[name]
                total = tally.money.get(name, Decimal(0))
                lines.append(f"  {labels.get(name, name)}（{name}）：已确定 {known:,} 行，合计 {_yuan(total)}"
                             + ("（各行直接相加，不是拨付额）" if rule else "")
                             + (f"；未确定 {unknown:,} 行，未计入" if unknown else ""))
        if self.missing:
            lines.append("未确定的结论按缺少的事实（一行缺几项就各计一次）：")
            for name, count in sorted(self.missing.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"  {missing_label(name, vocab, self.reasons)}：{count:,} 行")
        return "\n".join(lines)

    @staticmethod
    def _payout_text(tally: Tally, rule: Payout, labels: dict) -> list[str]:
        amount = labels.get(rule.amount, rule.amount)
        auto_label = labels.get(rule.automatic, rule.automatic)
        p, s = tally.payout, tally.payout_sum

        def sum_text(value: Decimal, rows: int, unknown: int) -> str:
            if unknown and rows == unknown:
                return f"未确定（{unknown:,} 行金额都未确定）"
            return _yuan(value) + (f"（另有 {unknown:,} 行金额未确定，未计入）" if unknown else "")

        def total(group: str) -> str:
            return sum_text(s.get(group, Decimal(0)), p[group], p[group + "_unknown_amount"])

        paid = s.get("automatic", Decimal(0)) + s.get("applied", Decimal(0))
        unknown_paid = p["automatic_unknown_amount"] + p["applied_unknown_amount"]
        paid_text = sum_text(paid, p["automatic"] + p["applied"], unknown_paid)
        lines = [
            f"  {auto_label}（{rule.automatic}）：{p['automatic']:,} 行，{amount}合计 {total('automatic')}",
            f"  已在申请期限内申请（非免申即享，或是否免申即享未确定）：{p['applied']:,} 行，{amount}合计 {total('applied')}",
            f"  非免申即享且逾期申请（不拨付）：{p['late']:,} 行，{amount} {total('late')} 不计入拨付",
            f"  是否免申即享、是否按期申请尚未确定（暂不拨付）：{p['pending']:,} 行，{amount} {total('pending')} 不计入拨付",
            f"  拨付合计：{paid_text}",
            f"    ＝ {labels.get(rule.payable, rule.payable)}（{rule.payable}）为“是”的{amount}（{rule.amount}）之和，"
            f"即符合条件（{rule.eligible}）且免申即享（{rule.automatic}）或在申请期限内申请（{rule.in_time}）；"
            f"逾期申请、尚未确定的不计入",
        ]
        return lines


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f} 元" if value == value.quantize(Decimal("0.01")) else f"{value:,f} 元"
