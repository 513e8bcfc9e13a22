"""The vouchers of a year: a double-entry ledger (budget book 6xxx/7xxx/8xxx and the
financial book) built from the spending plan in `figures`, every voucher balanced."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from scripts.demo_data.figures import (
    BASIC_2020, BASIC_2021, BASIC_SUMMARY, GEN, INSURANCE_CODES, MONTH_W_BASIC, MONTH_W_PROJECT, PAYROLL_2020,
    PAYROLL_2021, PAYROLL_FUNC, PROJECTS_2020, PROJECTS_2021, PROJECT_INFO, SPEC, SUMMARY_BY_ECON, UNITF, WAGE_CODES,
)
from scripts.demo_data.values import D, ZERO, alloc, bday, ceil_to, split

# ---------------------------------------------------------------------------
# Vouchers
# ---------------------------------------------------------------------------


@dataclass
class Line:
    account: str
    debit: Decimal
    credit: Decimal
    func: str | None = None
    econ: str | None = None
    project: str | None = None
    fund: str | None = None


@dataclass
class Voucher:
    date: date
    prio: int
    seq: int
    summary: str
    paymethod: str
    lines: list[Line] = field(default_factory=list)
    no: str = ""


@dataclass
class Item:
    econ: str
    func: str
    project: str | None
    fund: str
    amount: Decimal


class LedgerBuilder:
    """Builds the vouchers of one fiscal year, both books, every voucher balanced per book."""

    def __init__(self, year: int, seed: int):
        self.year = year
        self.rng = random.Random(seed)
        self.vouchers: list[Voucher] = []
        self.seq = 0
        self.authorized_by_month: dict[int, Decimal] = {m: ZERO for m in range(1, 13)}

    def new(self, d: date, summary: str, paymethod: str = "", prio: int = 2) -> Voucher:
        assert d.year == self.year
        self.seq += 1
        v = Voucher(d, prio, self.seq, summary, paymethod)
        self.vouchers.append(v)
        return v

    @staticmethod
    def expense_account(item: Item) -> str:
        if item.econ in ("31002", "31013"):
            return "1601"  # equipment and vehicles are capitalised on the financial side
        if item.project is None and not item.econ.startswith("301"):
            return "5101"
        return "5001"

    def spend(self, d: date, summary: str, items: list[Item], channel: str) -> Voucher:
        """One payment: financial lines first, then the budget-accounting lines."""
        total = sum((i.amount for i in items), ZERO)
        method = {"direct": "财政直接支付", "authorized": "财政授权支付", "bank": "银行转账",
                  "payable": "财政直接支付"}[channel]
        v = self.new(d, summary, method)
        aux = lambda i: dict(func=i.func, econ=i.econ, project=i.project, fund=i.fund)  # noqa: E731
        fin_credit = {"direct": "4001", "authorized": "1011", "bank": "1002", "payable": "4001"}[channel]
        bud_credit = {"direct": "6001", "authorized": "8001", "bank": "8001", "payable": "6001"}[channel]
        if channel == "payable":
            v.lines.append(Line("2302", total, ZERO))
        else:
            for i in items:
                v.lines.append(Line(self.expense_account(i), i.amount, ZERO, **aux(i)))
        v.lines.append(Line(fin_credit, ZERO, total))
        for i in items:
            v.lines.append(Line("7101", i.amount, ZERO, **aux(i)))
        v.lines.append(Line(bud_credit, ZERO, total))
        if channel == "authorized":
            self.authorized_by_month[d.month] += total
        return v

    def accrue_payable(self, d: date, summary: str, items: list[Item]) -> None:
        """Financial book only: the expense is recognised when the work is accepted."""
        total = sum((i.amount for i in items), ZERO)
        v = self.new(d, summary.replace("支付", "确认").replace("拨付", "确认") + "（挂应付账款）", "", prio=1)
        for i in items:
            v.lines.append(Line("5001", i.amount, ZERO, func=i.func, econ=i.econ, project=i.project, fund=i.fund))
        v.lines.append(Line("2302", ZERO, total))

    # -- payroll ---------------------------------------------------------

    def payroll(self, spec: dict[str, str]) -> None:
        rng = self.rng
        monthly: dict[str, list[Decimal]] = {}
        for econ, total in spec.items():
            if econ == "30103":
                months = [1, 4, 7, 10, 12]
                parts = split(D(total), len(months), rng, jitter=0.25)
                monthly[econ] = [parts[months.index(m)] if m in months else ZERO for m in range(1, 13)]
            else:
                monthly[econ] = split(D(total), 12, rng, jitter=0.04)
        for m in range(1, 13):
            for codes, what, acc_day, pay_day in (
                (WAGE_CODES, "工资", 5, 12),
                (INSURANCE_CODES, "社会保险费及住房公积金", 5, 20),
            ):
                items = [Item(c, PAYROLL_FUNC.get(c, "2120101"), None, GEN, monthly[c][m - 1])
                         for c in codes if monthly[c][m - 1] > 0]
                total = sum((i.amount for i in items), ZERO)
                acc = self.new(bday(self.year, m, acc_day), f"计提{m}月{what}", "", prio=1)
                for i in items:
                    acc.lines.append(Line("5001", i.amount, ZERO, func=i.func, econ=i.econ, fund=i.fund))
                acc.lines.append(Line("2201", ZERO, total))
                verb = "发放" if what == "工资" else "缴纳"
                pay = self.new(bday(self.year, m, pay_day), f"{verb}{m}月{what}", "财政直接支付")
                pay.lines.append(Line("2201", total, ZERO))
                pay.lines.append(Line("4001", ZERO, total))
                for i in items:
                    pay.lines.append(Line("7101", i.amount, ZERO, func=i.func, econ=i.econ, fund=i.fund))
                pay.lines.append(Line("6001", ZERO, total))

    # -- basic public funds ---------------------------------------------

    def basic(self, spec) -> None:
        rng = self.rng
        for econ, fund, total, n, is_monthly in spec:
            parts = split(D(total), n, rng, jitter=0.5 if not is_monthly else 0.2)
            if is_monthly:
                dates = [bday(self.year, m, rng.randint(15, 26)) for m in range(1, 13)]
            else:
                dates = sorted(bday(self.year, rng.choices(range(1, 13), MONTH_W_BASIC)[0], rng.randint(1, 28))
                               for _ in range(n))
            func = "2120102" if econ in ("30215", "30216") else "2120101"
            for d, amount in zip(dates, parts):
                summary = rng.choice(BASIC_SUMMARY[econ]).format(m=d.month)
                if fund == UNITF:
                    channel = "bank"
                elif econ in ("30205", "30206", "30228", "31013"):
                    channel = "direct"
                else:
                    channel = "authorized"
                self.spend(d, summary, [Item(econ, func, None, fund, amount)], channel)

    # -- projects --------------------------------------------------------

    def projects(self, spec: dict) -> None:
        rng = self.rng
        for code, cells in spec.items():
            subjects = PROJECT_INFO[code][4]
            for fund, func, weights, total in cells:
                total = D(total)
                by_econ = alloc(total, weights)
                n_events = max(3, min(24, int(total / 600_000) + 3))
                months = sorted(rng.choices(range(1, 13), MONTH_W_PROJECT, k=n_events))
                dates = [bday(self.year, m, rng.randint(1, 28)) for m in months]
                events: list[list[Item]] = [[] for _ in range(n_events)]
                for econ, amount in by_econ.items():
                    share = amount / total  # how many payments: a count, kept in Decimal like the money
                    k = max(1, min(n_events, round(n_events * share * Decimal("1.3"))))
                    if econ in ("30211", "30215", "30216", "30217", "30231"):
                        k = max(k, min(n_events, 3))  # small running costs are paid several times
                    parts = split(amount, k, rng, jitter=0.45, round_prob=0.4)
                    slots = rng.sample(range(n_events), k)
                    for slot, part in zip(slots, parts):
                        events[slot].append(Item(econ, func, code, fund, part))
                for d, items in zip(dates, events):
                    if not items:
                        continue
                    s = rng.choice(subjects)
                    summary = rng.choice(SUMMARY_BY_ECON[items[0].econ]).format(s=s)
                    etotal = sum(i.amount for i in items)
                    if fund in (SPEC, UNITF):
                        channel = "bank"
                    elif etotal >= 300000 and any(i.econ == "31005" for i in items) and rng.random() < 0.35:
                        channel = "payable"
                    elif etotal >= 50000:
                        channel = "direct"
                    else:
                        channel = "authorized"
                    if channel == "payable":
                        acc_d = d - timedelta(days=rng.randint(7, 40))
                        if acc_d.year != self.year:
                            acc_d = date(self.year, 1, 4)
                        acc_d = bday(acc_d.year, acc_d.month, acc_d.day)
                        self.accrue_payable(acc_d, summary, items)
                    self.spend(d, summary, items, channel)

    # -- corrections (net zero) -----------------------------------------

    def red_letter(self, d_orig: date, d_rev: date, econ: str, amount: Decimal, what: str, rev_summary: str) -> None:
        """An original payment and its red-letter reversal (negative amounts on both sides)."""
        item = Item(econ, "2120101", None, GEN, amount)
        self.spend(d_orig, what, [item], "authorized")
        neg = Item(econ, "2120101", None, GEN, -amount)
        self.spend(d_rev, rev_summary, [neg], "authorized")

    def refund(self, d_orig: date, d_ref: date, econ: str, amount: Decimal, what: str, ref_summary: str) -> None:
        """An overpayment and its recovery, booked as a credit on the 7101 line."""
        item = Item(econ, "2120102" if econ in ("30215", "30216") else "2120101", None, GEN, amount)
        self.spend(d_orig, what, [item], "authorized")
        v = self.new(d_ref, ref_summary, "财政授权支付")
        v.lines.append(Line("1011", amount, ZERO))
        v.lines.append(Line("5101", ZERO, amount, func=item.func, econ=econ, fund=GEN))
        v.lines.append(Line("8001", amount, ZERO))
        v.lines.append(Line("7101", ZERO, amount, func=item.func, econ=econ, fund=GEN))

    # -- receipts and financial-only entries -----------------------------

    def receipts_and_accruals(self) -> None:
        rng = self.rng
        y = self.year
        for m in range(1, 13):
            amt = self.authorized_by_month[m]
            if amt > 0:
                quota = ceil_to(amt, D(10000)) + D(20000)
                v = self.new(bday(y, m, 1), f"收到{m}月财政授权支付用款额度", "财政授权支付", prio=0)
                v.lines += [Line("1011", quota, ZERO), Line("4001", ZERO, quota),
                            Line("8001", quota, ZERO), Line("6001", ZERO, quota)]
            dep = D(f"{rng.uniform(34000, 39000):.2f}")
            v = self.new(bday(y, m, 31), f"计提{m}月固定资产折旧")
            v.lines += [Line("5001", dep, ZERO), Line("1602", ZERO, dep)]
            if m % 3 == 0:
                am = D("4150.00")
                v = self.new(bday(y, m, 31), f"摊销第{m // 3}季度无形资产")
                v.lines += [Line("5001", am, ZERO), Line("1702", ZERO, am)]
        unit_total = sum((ln.debit - ln.credit for v in self.vouchers for ln in v.lines
                          if ln.account == "7101" and ln.fund == UNITF), ZERO)
        for q, m in enumerate((1, 4, 7, 10), start=1):
            amt = ceil_to(unit_total / 4, D(1000)) + D(5000)
            v = self.new(bday(y, m, 8), f"收到第{q}季度房屋租金收入", "银行转账", prio=0)
            v.lines += [Line("1002", amt, ZERO), Line("4609", ZERO, amt),
                        Line("8001", amt, ZERO), Line("6609", ZERO, amt)]
        spec_total = sum((ln.debit - ln.credit for v in self.vouchers for ln in v.lines
                          if ln.account == "7101" and ln.fund == SPEC), ZERO)
        for m in (2, 7):
            amt = ceil_to(spec_total / 2, D(10000))
            v = self.new(bday(y, m, 3), "收到财政专户返还施工图审查经费", "银行转账", prio=0)
            v.lines += [Line("1002", amt, ZERO), Line("4609", ZERO, amt),
                        Line("8001", amt, ZERO), Line("6609", ZERO, amt)]

    def finish(self) -> list[Voucher]:
        self.vouchers.sort(key=lambda v: (v.date, v.prio, v.seq))
        counter: dict[int, int] = {}
        for v in self.vouchers:
            counter[v.date.month] = counter.get(v.date.month, 0) + 1
            v.no = f"记-{counter[v.date.month]:04d}"
            budget = [ln for ln in v.lines if ln.account[0] in "678"]
            fin = [ln for ln in v.lines if ln.account[0] not in "678"]
            for book in (budget, fin):
                assert sum(ln.debit for ln in book) == sum(ln.credit for ln in book), v
            for ln in v.lines:
                if ln.account.startswith("7"):
                    assert ln.func and len(ln.func) == 7 and ln.econ and len(ln.econ) == 5 and ln.fund, v
        return self.vouchers


def build_2021() -> list[Voucher]:
    b = LedgerBuilder(2021, seed=2021_0001)
    b.payroll(PAYROLL_2021)
    b.basic(BASIC_2021)
    b.projects(PROJECTS_2021)
    # Q2: duplicate payment in May, red-letter reversal in June, written as （1,234.56）.
    b.red_letter(date(2021, 5, 18), date(2021, 6, 9), "30201", D("1234.56"),
                 "支付办公用品采购款", "红字冲销5月重复支付的办公用品采购款")
    # Q3: duplicate travel claim in July, red-letter reversal in August, written as (2,580.00).
    b.red_letter(date(2021, 7, 13), date(2021, 8, 10), "30211", D("2580.00"),
                 "报销赴长沙参会差旅费", "红字冲销7月重复报销的差旅费")
    # Q4: overpaid training fee in October, recovered in November (credit on 7101).
    b.refund(date(2021, 10, 19), date(2021, 11, 16), "30216", D("3260.00"),
             "支付业务培训费", "收回多付的业务培训费")
    b.receipts_and_accruals()
    return b.finish()


def build_2020() -> list[Voucher]:
    b = LedgerBuilder(2020, seed=2020_0001)
    b.payroll(PAYROLL_2020)
    b.basic(BASIC_2020)
    b.projects(PROJECTS_2020)
    b.red_letter(date(2020, 3, 17), date(2020, 4, 14), "30213", D("4860.00"),
                 "支付办公楼维修费", "红字冲销3月重复支付的维修费")
    b.receipts_and_accruals()
    return b.finish()
