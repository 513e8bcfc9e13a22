"""Generate the bundled demo landing folder (``pipelines/demo/landing``).

The demo data set is one budget unit, 117001 常宁市住房和城乡建设局 (the seed's bureau,
which also runs 人防办), for fiscal years 2020 and 2021.  FY2021 reproduces the seed
report (``/work/shared/seed/000_f7daed561bad21f5.txt``) to the fen; FY2020 is a plausible
prior year about 9 % lower, so that year-over-year figures exist.

The files are written the way the department's systems export them, with the quirks
of contract section 2 (title lines, 万元 files, footers, odd amounts and dates, several
spellings of a classification, stray spaces).  See ``README.md`` beside this file.

Deterministic: a fixed random seed per section, no dependence on the current date or
time, fixed XLSX document properties, so every run writes byte-identical files.
Money is Decimal throughout; it is never a float except for the moment an exactly
representable value is handed to an XLSX number cell (checked).

Usage::

    python pipelines/demo/generate.py            # rewrites pipelines/demo/landing/
    python pipelines/demo/generate.py --out DIR  # writes elsewhere (DIR is deleted first)
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "landing"

UNIT_CODE = "117001"
UNIT_NAME = "常宁市住房和城乡建设局"
UNIT_LINE = f"单位：{UNIT_CODE} {UNIT_NAME}"

# Fixed document properties for every XLSX file: no dependence on the clock.
XLSX_PROPERTIES = {
    "author": "常宁市住房和城乡建设局办公室（财务审计股）",
    "company": UNIT_NAME,
    "created": datetime(2022, 1, 20, 9, 0, 0),
}

CENT = Decimal("0.01")
ONE = Decimal("1")
HUNDRED = Decimal("100")
WAN = Decimal("10000")
ZERO = Decimal("0")

# Fund sources (资金性质).
GEN = "一般公共预算"
GOV = "政府性基金预算"
SPEC = "财政专户管理资金"
UNITF = "单位资金"
FISCAL = (GEN, GOV, "国有资本经营预算")

# ---------------------------------------------------------------------------
# Reference names (only what the demo uses)
# ---------------------------------------------------------------------------

ECON = {
    "301": "工资福利支出",
    "302": "商品和服务支出",
    "310": "资本性支出",
    "312": "对企业补助",
    "399": "其他支出",
    "30101": "基本工资",
    "30102": "津贴补贴",
    "30103": "奖金",
    "30107": "绩效工资",
    "30108": "机关事业单位基本养老保险缴费",
    "30109": "职业年金缴费",
    "30110": "职工基本医疗保险缴费",
    "30112": "其他社会保障缴费",
    "30113": "住房公积金",
    "30201": "办公费",
    "30202": "印刷费",
    "30205": "水费",
    "30206": "电费",
    "30207": "邮电费",
    "30211": "差旅费",
    "30213": "维修（护）费",
    "30215": "会议费",
    "30216": "培训费",
    "30217": "公务接待费",
    "30226": "劳务费",
    "30227": "委托业务费",
    "30228": "工会经费",
    "30231": "公务用车运行维护费",
    "30299": "其他商品和服务支出",
    "31002": "办公设备购置",
    "31005": "基础设施建设",
    "31013": "公务用车购置",
    "31099": "其他资本性支出",
    "31204": "费用补贴",
    "39999": "其他支出",
}

FUNC = {
    "2030603": "人民防空",
    "2080505": "机关事业单位基本养老保险缴费支出",
    "2080506": "机关事业单位职业年金缴费支出",
    "2101101": "行政单位医疗",
    "2120101": "行政运行",
    "2120102": "一般行政管理事务",
    "2120303": "小城镇基础设施建设",
    "2120399": "其他城乡社区公共设施支出",
    "2120501": "城乡社区环境卫生",
    "2120803": "城市建设支出",
    "2210103": "棚户区改造",
    "2210105": "农村危房改造",
    "2210108": "老旧小区改造",
    "2210201": "住房公积金",
}

ACCOUNTS = {
    "1002": "银行存款",
    "1011": "零余额账户用款额度",
    "1601": "固定资产",
    "1602": "固定资产累计折旧",
    "1702": "无形资产累计摊销",
    "2201": "应付职工薪酬",
    "2302": "应付账款",
    "4001": "财政拨款收入",
    "4609": "其他收入",
    "5001": "业务活动费用",
    "5101": "单位管理费用",
    "6001": "财政拨款预算收入",
    "6609": "其他预算收入",
    "7101": "行政支出",
    "8001": "资金结存",
}

PAYROLL_FUNC = {"30108": "2080505", "30109": "2080506", "30110": "2101101", "30113": "2210201"}
WAGE_CODES = ("30101", "30102", "30103", "30107")
INSURANCE_CODES = ("30108", "30109", "30110", "30112", "30113")

# ---------------------------------------------------------------------------
# Projects
# ---------------------------------------------------------------------------

P_SGT = "117001-2020-01"  # 施工图审查
P_SZ = "117001-2020-02"  # 市政设施建设
P_JC = "117001-2020-03"  # 城市基础设施建设及城区道路改造
P_LJ = "117001-2020-04"  # 老旧小区改造
P_PS = "117001-2020-05"  # 城区排水防涝
P_PH = "117001-2020-06"  # 棚户区改造
P_WSF = "117001-2020-07"  # 污水处理费服务费及管网维护费
P_WF = "117001-2020-08"  # 危房改造
P_XZ = "117001-2020-09"  # 乡镇污水处理奖补及配套
P_YZ = "117001-2020-10"  # 运转类经费
P_RF = "117001-2020-11"  # 人防 (涉密)
P_GS = "117001-2020-12"  # 城区供水管网改造 (2020 only)
P_LJC = "117001-2020-13"  # 建筑垃圾消纳场建设 (2020 only)
P_JK = "117001-2021-01"  # 城市建设开发公司解困资金、社保和就业资金、泉峰市场补贴资金
P_DX = "117001-2021-02"  # 地下管线普查及信息化平台建设
P_TL = "117001-2021-03"  # 自来水公司塔岭水厂债券资金

OFF_CS = "城市建设股（公用事业股）"
OFF_ZB = "住房保障股"
OFF_CZ = "村镇建设股"
OFF_KC = "勘察设计股"
OFF_BGS = "办公室（财务审计股）"
OFF_RF = "人防指挥通信股（战备保障股）"  # used by 人防 only
OFF_FDC = "房地产监管股"
OFF_AQ = "安全和工程管理股（稽查办公室）"

PROJECT_INFO = {
    # code: (name, category, office, is_key, subjects used in voucher summaries)
    P_SGT: ("施工图审查", "业务类", OFF_KC, "否", ["施工图审查"]),
    P_SZ: ("市政设施建设", "基础设施", OFF_CS, "否",
           ["城区路灯设施", "人行道板砖维护", "城区沥青路面修补", "检查井与雨水井清淤", "广场设施维护", "市政设施抢修工程"]),
    P_JC: ("城市基础设施建设及城区道路改造", "基础设施", OFF_CS, "是",
           ["西江道路改造项目", "谷家州小游园工程", "宜乐路、夏联渠道路及排水改造工程", "南一环垃圾收集站工程",
            "十四五新型城镇规划编制", "武装部阳光棚工程"]),
    P_LJ: ("老旧小区改造", "住房保障", OFF_ZB, "是",
           ["桃江路老旧小区改造", "红星老旧小区改造", "劳动路南段老旧小区改造", "泉峰市场老旧小区改造",
            "公路局家属院老旧小区改造", "常荫路老旧小区改造", "肉食水产片区老旧小区改造", "公园村家属区老旧小区改造",
            "城东社区老旧小区配套基础设施", "城北社区老旧小区配套基础设施"]),
    P_PS: ("城区排水防涝", "基础设施", OFF_CS, "是",
           ["城区排水防涝及污水处理一体化一期", "城区排水防涝及污水处理一体化二期", "夏联渠清淤工程", "草桥渠清淤工程"]),
    P_PH: ("棚户区改造", "住房保障", OFF_ZB, "是", ["城区棚户区改造", "棚户区改造征收补偿"]),
    P_WSF: ("污水处理费服务费及管网维护费", "基础设施", OFF_CS, "否", ["城区污水处理服务费", "污水管网维护"]),
    P_WF: ("危房改造", "住房保障", OFF_CZ, "否", ["农村危房改造补助", "危房鉴定验收"]),
    P_XZ: ("乡镇污水处理奖补及配套", "基础设施", OFF_CZ, "是",
           ["乡镇污水处理设施及配套管网一期", "乡镇污水处理设施及配套管网二期", "洋泉镇污水处理厂", "官岭镇污水处理厂"]),
    P_YZ: ("运转类经费", "运转类", OFF_BGS, "否",
           ["维稳综治工作", "乡村振兴工作", "新型墙体材料应用推广", "消防审查与验收", "村镇建设及传统村落申报", "统计工作"]),
    P_RF: ("人防演练、临时指挥所、人防档案库房建设及疏散基地建设", "人防", OFF_RF, "否",
           ["人防演练", "临时指挥所", "人防档案库房建设", "疏散基地建设"]),
    P_GS: ("城区供水管网改造", "基础设施", OFF_CS, "否", ["城区供水管网改造工程"]),
    P_LJC: ("建筑垃圾消纳场建设", "基础设施", OFF_CS, "否", ["建筑垃圾消纳场建设工程"]),
    P_JK: ("城市建设开发公司解困资金、社保和就业资金、泉峰市场补贴资金", "补助类", OFF_FDC, "否",
           ["城市建设开发公司解困资金", "城市建设开发公司社保和就业资金", "泉峰市场补贴资金"]),
    P_DX: ("地下管线普查及信息化平台建设", "信息化", OFF_AQ, "否", ["地下管线普查", "地下管线信息化平台"]),
    P_TL: ("自来水公司塔岭水厂债券资金", "基础设施", OFF_CS, "是", ["塔岭水厂建设工程"]),
}

SUMMARY_BY_ECON = {
    "31005": ["支付{s}工程进度款", "支付{s}工程款"],
    "30227": ["支付{s}设计费", "支付{s}监理费", "支付{s}委托服务费"],
    "30226": ["支付{s}劳务费"],
    "30213": ["支付{s}维修维护费"],
    "31099": ["支付{s}前期费用"],
    "31002": ["购置{s}设备"],
    "39999": ["拨付{s}补助资金"],
    "31204": ["拨付{s}"],
    "30299": ["支付{s}其他费用"],
    "30211": ["报销{s}差旅费"],
    "30215": ["支付{s}会议费"],
    "30216": ["支付{s}培训费"],
    "30217": ["支付{s}公务接待费"],
    "30231": ["支付{s}公务用车运行维护费"],
}

BASIC_SUMMARY = {
    "30201": ["购买办公用品", "购置打印纸、硒鼓", "支付办公耗材费"],
    "30202": ["印刷宣传资料", "印刷公文及表册"],
    "30205": ["支付{m}月水费"],
    "30206": ["支付{m}月电费"],
    "30207": ["支付{m}月电话费、网络费"],
    "30211": ["报销赴衡阳差旅费", "报销赴长沙参会差旅费", "报销下乡督查差旅费"],
    "30213": ["办公楼维修", "空调维修", "办公设备维修"],
    "30215": ["召开全市住建工作会议", "召开安全生产工作会议"],
    "30216": ["举办建筑安全生产培训", "举办物业管理业务培训"],
    "30217": ["公务接待费（上级检查）", "公务接待费（兄弟县市考察）"],
    "30228": ["拨付工会经费"],
    "30231": ["公务用车加油费", "公务用车维修保养费", "公务用车保险费"],
    "30299": ["机关食堂补助", "安保服务费", "其他商品和服务支出"],
    "31002": ["购置办公电脑", "购置打印复印一体机"],
    "31013": ["购置公务用车"],
}

MONTH_W_PROJECT = [2, 3, 5, 6, 6, 8, 7, 8, 9, 10, 12, 24]
MONTH_W_BASIC = [6, 7, 9, 8, 9, 9, 8, 8, 9, 9, 9, 11]

# ---------------------------------------------------------------------------
# Year specifications
# ---------------------------------------------------------------------------

# FY2021 (reproduces the seed).  Amounts in yuan.
PAYROLL_2021 = {
    "30101": "5126400.00", "30102": "4987200.00", "30103": "1254000.00", "30107": "3912600.00",
    "30108": "2484300.00", "30109": "847300.00", "30110": "1060900.00", "30112": "152300.00",
    "30113": "2118300.00",
}
# (econ, fund, total, number of payments, monthly)
BASIC_2021 = [
    ("30201", GEN, "163000.00", 26, False), ("30201", UNITF, "23400.00", 4, False),
    ("30202", GEN, "42300.00", 8, False),
    ("30205", GEN, "38600.00", 12, True), ("30206", GEN, "126800.00", 12, True),
    ("30207", GEN, "64200.00", 12, True), ("30211", GEN, "168500.00", 72, False),
    ("30213", GEN, "112700.00", 14, False), ("30215", GEN, "45600.00", 5, False),
    ("30216", GEN, "58900.00", 7, False), ("30217", GEN, "52360.00", 22, False),
    ("30217", UNITF, "3600.00", 3, False), ("30228", GEN, "218900.00", 4, False),
    ("30231", GEN, "98500.00", 42, False), ("30299", GEN, "238180.00", 20, False),
    ("30299", UNITF, "41260.00", 6, False),
]

# Project spending cells: code -> list of (fund, func, {econ: weight} or {econ: "amount"}, total)
PROJECTS_2021 = {
    P_SGT: [(SPEC, "2120102", {"30227": 0.85, "30226": 0.15}, "900000.00"),
            (GEN, "2120102", {"30227": 0.7, "30299": 0.3}, "300000.00")],
    P_SZ: [(GEN, "2120399", {"30213": 0.4, "31005": 0.45, "30227": 0.1, "30299": 0.05}, "10000000.00")],
    P_JC: [(GEN, "2120399", {"31005": 0.8, "30227": 0.12, "31099": 0.08}, "15000000.00")],
    P_LJ: [(GEN, "2210108", {"31005": 0.85, "30227": 0.08, "30226": 0.02, "31099": 0.05}, "43000000.00")],
    P_PS: [(GEN, "2120399", {"31005": 0.75, "30227": 0.15, "30213": 0.1}, "12050000.00")],
    P_PH: [(GEN, "2210103", {"31005": 0.6, "39999": 0.4}, "6745000.00")],
    P_DX: [(GEN, "2120399", {"30227": 0.7, "31002": 0.3}, "663600.00")],
    P_JK: [(GEN, "2120399", {"31204": 1.0}, "3780000.00")],
    P_WSF: [(GOV, "2120501", {"30227": 0.75, "30213": 0.25}, "13849800.00")],
    P_WF: [(GEN, "2210105", {"39999": 0.9, "30227": 0.1}, "1729300.00")],
    P_XZ: [(GEN, "2120303", {"31005": 0.85, "30227": 0.1, "31099": 0.05}, "17093600.00")],
    P_TL: [(GOV, "2120803", {"31005": 1.0}, "10000000.00")],
    P_YZ: [(GEN, "2120102", {
        "30211": "186500.00", "30215": "95000.00", "30216": "128600.00", "30217": "27840.00",
        "30231": "51300.00", "30227": "2150000.00", "30226": "865400.00", "30213": "742360.00",
        "31002": "186400.00", "30299": "1566600.00"}, "6000000.00")],
    P_RF: [(GEN, "2030603", {"30227": 0.3, "31005": 0.5, "30299": 0.1, "31002": 0.1}, "2068000.00")],
}

# FY2020 (plausible prior year).
PAYROLL_2020 = {
    "30101": "4862100.00", "30102": "4703500.00", "30103": "1186000.00", "30107": "3688400.00",
    "30108": "2342600.00", "30109": "798200.00", "30110": "1001700.00", "30112": "143900.00",
    "30113": "1988800.00",
}
BASIC_2020 = [
    ("30201", GEN, "158500.00", 24, False), ("30201", UNITF, "19800.00", 4, False),
    ("30202", GEN, "48600.00", 6, False),
    ("30205", GEN, "36900.00", 12, True), ("30206", GEN, "121400.00", 12, True),
    ("30207", GEN, "61800.00", 12, True), ("30211", GEN, "182700.00", 76, False),
    ("30213", GEN, "98400.00", 13, False), ("30215", GEN, "52300.00", 6, False),
    ("30216", GEN, "61200.00", 7, False), ("30217", GEN, "68420.00", 26, False),
    ("30217", UNITF, "4200.00", 3, False), ("30228", GEN, "206100.00", 4, False),
    ("30231", GEN, "121650.00", 44, False), ("30299", GEN, "243130.00", 20, False),
    ("30299", UNITF, "38500.00", 6, False),
    ("31002", GEN, "35000.00", 2, False), ("31013", GEN, "179800.00", 1, False),
]
PROJECTS_2020 = {
    P_SGT: [(SPEC, "2120102", {"30227": 0.85, "30226": 0.15}, "800000.00"),
            (GEN, "2120102", {"30227": 0.7, "30299": 0.3}, "280000.00")],
    P_SZ: [(GEN, "2120399", {"30213": 0.4, "31005": 0.45, "30227": 0.1, "30299": 0.05}, "9500000.00")],
    P_JC: [(GEN, "2120399", {"31005": 0.8, "30227": 0.12, "31099": 0.08}, "18500000.00")],
    P_LJ: [(GEN, "2210108", {"31005": 0.85, "30227": 0.08, "30226": 0.02, "31099": 0.05}, "36200000.00")],
    P_PS: [(GEN, "2120399", {"31005": 0.75, "30227": 0.15, "30213": 0.1}, "9800000.00")],
    P_PH: [(GEN, "2210103", {"31005": 0.55, "39999": 0.45}, "11268000.00")],
    P_WSF: [(GOV, "2120501", {"30227": 0.75, "30213": 0.25}, "12964500.00")],
    P_WF: [(GEN, "2210105", {"39999": 0.92, "30227": 0.08}, "2486000.00")],
    P_XZ: [(GEN, "2120303", {"31005": 0.85, "30227": 0.1, "31099": 0.05}, "12100000.00")],
    P_YZ: [(GEN, "2120102", {
        "30211": "176300.00", "30215": "88000.00", "30216": "112400.00", "30217": "29960.00",
        "30231": "58700.00", "30227": "1980000.00", "30226": "812300.00", "30213": "690000.00",
        "30299": "1652340.00"}, "5600000.00")],
    P_RF: [(GEN, "2030603", {"30227": 0.35, "31005": 0.45, "30299": 0.1, "31002": 0.1}, "1885000.00")],
    P_GS: [(GOV, "2120803", {"31005": 0.9, "30227": 0.1}, "4198765.44")],
    P_LJC: [(GEN, "2120501", {"31005": 0.85, "30227": 0.15}, "3561234.56")],
}

PROJECT_ORDER_2021 = [P_SGT, P_SZ, P_JC, P_LJ, P_PS, P_PH, P_DX, P_JK, P_WSF, P_WF, P_XZ, P_TL, P_YZ, P_RF]
PROJECT_ORDER_2020 = [P_SGT, P_SZ, P_JC, P_LJ, P_PS, P_PH, P_WSF, P_WF, P_XZ, P_YZ, P_RF, P_GS, P_LJC]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def D(value) -> Decimal:
    """Decimal from a str/int/Decimal (never from a float)."""
    if isinstance(value, float):  # pragma: no cover - guard
        raise TypeError("money must not be a float")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def round_to(value: Decimal, unit: Decimal) -> Decimal:
    return ((value / unit).quantize(ONE, ROUND_HALF_UP) * unit).quantize(CENT)


def ceil_to(value: Decimal, unit: Decimal) -> Decimal:
    return ((value / unit).quantize(ONE, ROUND_CEILING) * unit).quantize(CENT)


def split(total: Decimal, n: int, rng: random.Random, jitter: float = 0.4, round_prob: float = 0.0) -> list[Decimal]:
    """Split ``total`` into ``n`` positive parts exact to the fen."""
    total = D(total)
    if n <= 1:
        return [total]
    weights = [1 + rng.uniform(-jitter, jitter) for _ in range(n)]
    s = sum(weights)
    parts = []
    for w in weights[:-1]:
        v = total * Decimal(f"{w / s:.6f}")
        unit = HUNDRED if rng.random() < round_prob else CENT
        parts.append(round_to(v, unit))
    last = total - sum(parts)
    parts.append(last)
    assert all(p > 0 for p in parts), (total, parts)
    assert sum(parts) == total
    return parts


def alloc(total: Decimal, weights: dict) -> dict[str, Decimal]:
    """Allocate a total over econ codes: by weight (to 100 yuan, remainder last) or explicit amounts."""
    total = D(total)
    items = list(weights.items())
    if all(isinstance(w, str) for _, w in items):
        out = {k: D(v) for k, v in items}
        assert sum(out.values()) == total, (total, sum(out.values()))
        return out
    out: dict[str, Decimal] = {}
    for k, w in items[:-1]:
        out[k] = round_to(total * Decimal(str(w)), HUNDRED)
    out[items[-1][0]] = total - sum(out.values())
    assert all(v > 0 for v in out.values())
    return out


def bday(year: int, month: int, day: int) -> date:
    """A working day in the month, at or after ``day`` (or before, at the month's end)."""
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    d = date(year, month, min(max(day, 1), last))
    fwd = d
    while not _working(fwd):
        fwd += timedelta(days=1)
    if fwd.month == month:
        return fwd
    while not _working(d):
        d -= timedelta(days=1)
    return d


def _working(d: date) -> bool:
    """Monday to Friday, and not New Year's Day, the May Day or the National Day holidays."""
    holiday = (d.month, d.day) == (1, 1) or (d.month == 5 and d.day <= 5) or (d.month == 10 and d.day <= 7)
    return d.weekday() < 5 and not holiday


def month_end(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def fullwidth(s: str) -> str:
    return s.translate(str.maketrans("0123456789.,", "０１２３４５６７８９．，"))


def xlsx_float(value: Decimal) -> float:
    """The float for an XLSX number cell; only values that read back exactly."""
    f = float(str(value))
    assert Decimal(repr(f)) == value, (value, f)
    return f


def wan(value: Decimal) -> Decimal:
    """Yuan -> 万元, exact (up to 6 decimals), trailing zeros trimmed to 2 decimals."""
    w = value / WAN
    assert w * WAN == value
    w = w.normalize()
    if -w.as_tuple().exponent < 2:
        w = w.quantize(CENT)
    return w


def fmt_amount(value: Decimal, style: str = "comma", neg: str = "minus") -> str:
    a = abs(value)
    if style == "comma":
        body = f"{a:,.2f}" if a == a.quantize(CENT) else f"{a:,f}"
    else:
        body = f"{a:.2f}" if a == a.quantize(CENT) else f"{a:f}"
    if value >= 0:
        return body
    if neg == "paren_full":
        return f"（{body}）"
    if neg == "paren":
        return f"({body})"
    return "-" + body


def fmt_cls(code: str, names: dict, style: str) -> str:
    name = names[code]
    if style == "space":
        return f"{code} {name}"
    if style == "bracket":
        return f"[{code}]{name}"
    if style == "dash":
        return f"{code}-{name}"
    return code


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


# ---------------------------------------------------------------------------
# Budget lines
# ---------------------------------------------------------------------------


@dataclass
class BudgetLine:
    doc: str
    kind: str
    func: str
    econ: str
    project: str | None
    fund: str
    amount: Decimal  # as written (追减 may be positive or negative)
    procurement: Decimal | None = None

    @property
    def effective(self) -> Decimal:
        return -abs(self.amount) if self.kind == "追减" else self.amount


def spending_by(vouchers, key) -> dict:
    out: dict = {}
    for v in vouchers:
        for ln in v.lines:
            if ln.account.startswith("7"):
                k = key(ln)
                out[k] = out.get(k, ZERO) + ln.debit - ln.credit
    return out


def basic_budget(vouchers, year: int, doc0: str, raise_301: Decimal, raise_doc: str) -> list[BudgetLine]:
    """Basic-spending budget lines per econ code and fund, a little above spending."""
    spent = spending_by(vouchers, lambda ln: (ln.econ, ln.func, ln.fund, ln.project))
    lines = []
    for (econ, func, fund, _), amount in sorted((k, v) for k, v in spent.items() if k[3] is None):
        if econ.startswith("301"):
            final = ceil_to(amount * D("1.012"), D(1000))
        elif fund == UNITF:
            final = ceil_to(amount * D("1.05"), HUNDRED)
        else:
            final = ceil_to(amount * D("1.03"), HUNDRED)
        proc = final if econ in ("31002", "31013") else None
        if econ == "30107":
            lines.append(BudgetLine(doc0, "年初预算", func, econ, None, fund, final - raise_301))
            lines.append(BudgetLine(raise_doc, "追加", func, econ, None, fund, raise_301))
        else:
            lines.append(BudgetLine(doc0, "年初预算", func, econ, None, fund, final, proc))
    return lines


def budget_2021(vouchers) -> list[BudgetLine]:
    y0 = "常财预〔2021〕3号"
    B = lambda *a, **k: BudgetLine(*a, **k)  # noqa: E731
    lines = basic_budget(vouchers, 2021, y0, D("600000.00"), "常财指〔2021〕35号")
    d = D
    lines += [
        B(y0, "年初预算", "2120102", "30227", P_SGT, SPEC, d("940000.00"), d("930000.00")),
        B(y0, "年初预算", "2120102", "30227", P_SGT, GEN, d("400000.00")),
        B("常财指〔2021〕88号", "追减", "2120102", "30227", P_SGT, GEN, d("90000.00")),
        B(y0, "年初预算", "2120399", "30213", P_SZ, GEN, d("4000000.00"), d("1500000.00")),
        B(y0, "年初预算", "2120399", "31005", P_SZ, GEN, d("5300000.00"), d("3500000.00")),
        B(y0, "年初预算", "2120399", "30227", P_SZ, GEN, d("1000000.00")),
        B("常财指〔2021〕102号", "调剂", "2120399", "30227", P_SZ, GEN, d("-300000.00")),
        B(y0, "年初预算", "2120399", "310", P_JC, GEN, d("13200000.00"), d("7500000.00")),
        B(y0, "年初预算", "2120399", "30227", P_JC, GEN, d("1800000.00")),
        B(y0, "年初预算", "2210108", "31005", P_LJ, GEN, d("37000000.00"), d("28000000.00")),
        B(y0, "年初预算", "2210108", "30227", P_LJ, GEN, d("3500000.00")),
        B(y0, "年初预算", "2210108", "31099", P_LJ, GEN, d("2800000.00")),
        B("常财指〔2021〕56号", "追加", "2210108", "31005", P_LJ, GEN, d("1500000.00")),
        B(y0, "年初预算", "2120399", "31005", P_PS, GEN, d("9800000.00"), d("9500000.00")),
        B(y0, "年初预算", "2120399", "30227", P_PS, GEN, d("1900000.00")),
        B(y0, "年初预算", "2120399", "30213", P_PS, GEN, d("1300000.00")),
        B("常财指〔2021〕91号", "追减", "2120399", "31005", P_PS, GEN, d("-400000.00")),
        B(y0, "年初预算", "2210103", "31005", P_PH, GEN, d("3600000.00")),
        B(y0, "年初预算", "2210103", "39999", P_PH, GEN, d("2400000.00")),
        B("常财指〔2021〕60号", "追加", "2210103", "39999", P_PH, GEN, d("745000.00")),
        B(y0, "年初预算", "2120399", "30227", P_DX, GEN, d("400000.00"), d("380000.00")),
        B("常财指〔2021〕102号", "调剂", "2120399", "31002", P_DX, GEN, d("300000.00"), d("220000.00")),
        B(y0, "年初预算", "2120399", "31204", P_JK, GEN, d("2000000.00")),
        B("常财指〔2021〕72号", "追加", "2120399", "31204", P_JK, GEN, d("1780000.00")),
        B(y0, "年初预算", "2120501", "30227", P_WSF, GOV, d("10500000.00")),
        B(y0, "年初预算", "2120501", "30213", P_WSF, GOV, d("3500000.00")),
        B("常财预〔2021〕8号", "上年结转", "2210105", "39999", P_WF, GEN, d("300000.00")),
        B(y0, "年初预算", "2210105", "39999", P_WF, GEN, d("1350000.00")),
        B(y0, "年初预算", "2210105", "30227", P_WF, GEN, d("150000.00")),
        B("常财预〔2021〕8号", "上年结转", "2120303", "31005", P_XZ, GEN, d("3000000.00")),
        B(y0, "年初预算", "2120303", "31005", P_XZ, GEN, d("12800000.00")),
        B(y0, "年初预算", "2120303", "30227", P_XZ, GEN, d("1500000.00"), d("1300000.00")),
        B(y0, "年初预算", "2120303", "31099", P_XZ, GEN, d("700000.00")),
        B("常财指〔2021〕66号", "追加", "2120803", "31005", P_TL, GOV, d("10000000.00")),
        B(y0, "年初预算", "2120102", "30211", P_YZ, GEN, d("190000.00")),
        B(y0, "年初预算", "2120102", "30215", P_YZ, GEN, d("100000.00")),
        B(y0, "年初预算", "2120102", "30216", P_YZ, GEN, d("130000.00")),
        B(y0, "年初预算", "2120102", "30217", P_YZ, GEN, d("30000.00")),
        B(y0, "年初预算", "2120102", "30231", P_YZ, GEN, d("55000.00")),
        B(y0, "年初预算", "2120102", "30227", P_YZ, GEN, d("2100000.00")),
        B(y0, "年初预算", "2120102", "30226", P_YZ, GEN, d("850000.00")),
        B(y0, "年初预算", "2120102", "30213", P_YZ, GEN, d("700000.00")),
        B(y0, "年初预算", "2120102", "31002", P_YZ, GEN, d("200000.00"), d("200000.00")),
        B(y0, "年初预算", "2120102", "30299", P_YZ, GEN, d("1245000.00")),
        B("常财指〔2021〕80号", "追加", "2120102", "30227", P_YZ, GEN, d("600000.00")),
        B(y0, "年初预算", "2030603", "31005", P_RF, GEN, d("1300000.00"), d("1280000.00")),
        B(y0, "年初预算", "2030603", "30227", P_RF, GEN, d("700000.00")),
        B("常财指〔2021〕95号", "追加", "2030603", "30299", P_RF, GEN, d("200000.00")),
    ]
    return lines


def budget_2020(vouchers) -> list[BudgetLine]:
    y0 = "常财预〔2020〕2号"
    B = lambda *a, **k: BudgetLine(*a, **k)  # noqa: E731
    lines = basic_budget(vouchers, 2020, y0, D("500000.00"), "常财指〔2020〕41号")
    d = D
    lines += [
        B(y0, "年初预算", "2120102", "30227", P_SGT, SPEC, d("850000.00"), d("800000.00")),
        B(y0, "年初预算", "2120102", "30227", P_SGT, GEN, d("300000.00")),
        B(y0, "年初预算", "2120399", "30213", P_SZ, GEN, d("4000000.00"), d("1500000.00")),
        B(y0, "年初预算", "2120399", "31005", P_SZ, GEN, d("4800000.00"), d("2500000.00")),
        B(y0, "年初预算", "2120399", "30227", P_SZ, GEN, d("1200000.00")),
        B(y0, "年初预算", "2120399", "31005", P_JC, GEN, d("13000000.00"), d("9500000.00")),
        B(y0, "年初预算", "2120399", "30227", P_JC, GEN, d("1800000.00")),
        B(y0, "年初预算", "2120399", "31099", P_JC, GEN, d("1200000.00")),
        B("常财指〔2020〕63号", "追加", "2120399", "31005", P_JC, GEN, d("3600000.00")),
        B("常财指〔2020〕118号", "调剂", "2120399", "31005", P_JC, GEN, d("-600000.00")),
        B(y0, "年初预算", "2210108", "31005", P_LJ, GEN, d("25500000.00"), d("25000000.00")),
        B(y0, "年初预算", "2210108", "30227", P_LJ, GEN, d("2800000.00"), d("1000000.00")),
        B(y0, "年初预算", "2210108", "31099", P_LJ, GEN, d("1700000.00")),
        B("常财指〔2020〕57号", "追加", "2210108", "31005", P_LJ, GEN, d("7000000.00")),
        B(y0, "年初预算", "2120399", "31005", P_PS, GEN, d("7500000.00"), d("6000000.00")),
        B(y0, "年初预算", "2120399", "30227", P_PS, GEN, d("1500000.00")),
        B(y0, "年初预算", "2120399", "30213", P_PS, GEN, d("1000000.00")),
        B("常财指〔2020〕97号", "追减", "2120399", "30213", P_PS, GEN, d("200000.00")),
        B(y0, "年初预算", "2210103", "31005", P_PH, GEN, d("6000000.00")),
        B(y0, "年初预算", "2210103", "39999", P_PH, GEN, d("5000000.00")),
        B("常财指〔2020〕71号", "追加", "2210103", "39999", P_PH, GEN, d("500000.00")),
        B(y0, "年初预算", "2120501", "30227", P_WSF, GOV, d("10200000.00")),
        B(y0, "年初预算", "2120501", "30213", P_WSF, GOV, d("3300000.00")),
        B(y0, "年初预算", "2210105", "39999", P_WF, GEN, d("2586000.00")),
        B(y0, "年初预算", "2210105", "30227", P_WF, GEN, d("200000.00")),
        B(y0, "年初预算", "2120303", "31005", P_XZ, GEN, d("13100000.00")),
        B(y0, "年初预算", "2120303", "30227", P_XZ, GEN, d("1400000.00")),
        B(y0, "年初预算", "2120303", "31099", P_XZ, GEN, d("600000.00")),
        B(y0, "年初预算", "2120102", "30211", P_YZ, GEN, d("180000.00")),
        B(y0, "年初预算", "2120102", "30215", P_YZ, GEN, d("90000.00")),
        B(y0, "年初预算", "2120102", "30216", P_YZ, GEN, d("120000.00")),
        B(y0, "年初预算", "2120102", "30217", P_YZ, GEN, d("32000.00")),
        B(y0, "年初预算", "2120102", "30231", P_YZ, GEN, d("60000.00")),
        B(y0, "年初预算", "2120102", "30227", P_YZ, GEN, d("2000000.00")),
        B(y0, "年初预算", "2120102", "30226", P_YZ, GEN, d("820000.00")),
        B(y0, "年初预算", "2120102", "30213", P_YZ, GEN, d("700000.00")),
        B(y0, "年初预算", "2120102", "30299", P_YZ, GEN, d("1498000.00")),
        B("常财指〔2020〕88号", "追加", "2120102", "30299", P_YZ, GEN, d("300000.00")),
        B(y0, "年初预算", "2030603", "31005", P_RF, GEN, d("900000.00")),
        B(y0, "年初预算", "2030603", "30227", P_RF, GEN, d("700000.00")),
        B(y0, "年初预算", "2030603", "31002", P_RF, GEN, d("400000.00"), d("400000.00")),
        B(y0, "年初预算", "2120803", "31005", P_GS, GOV, d("3900000.00"), d("3900000.00")),
        B(y0, "年初预算", "2120803", "30227", P_GS, GOV, d("400000.00")),
        B(y0, "年初预算", "2120501", "31005", P_LJC, GEN, d("3000000.00"), d("3000000.00")),
        B("常财指〔2020〕118号", "调剂", "2120501", "30227", P_LJC, GEN, d("600000.00")),
    ]
    return lines


# ---------------------------------------------------------------------------
# Procurement contracts
# ---------------------------------------------------------------------------

SUPPLIERS = [
    "衡阳市宏远建设工程有限公司", "湖南湘南市政工程有限公司", "常宁市城建工程有限公司", "湖南恒信工程监理有限公司",
    "衡阳市正泰工程咨询有限公司", "湖南华诚测绘信息有限公司", "常宁市鑫达办公设备经营部", "湖南建工集团有限公司",
    "衡阳市水利水电工程有限公司", "湖南省勘察设计研究院有限公司", "常宁市恒通汽车销售服务有限公司",
]

# (project, contract no, name, method, amount, date, supplier index)
CONTRACTS_2021 = [
    (P_SGT, "CNZJCG-2021-001", "施工图审查委托服务", "单一来源", "920000.00", date(2021, 2, 23), 9),
    (P_SZ, "CNZJCG-2021-002", "城区路灯设施维护", "竞争性磋商", "1180000.00", date(2021, 3, 16), 2),
    (P_SZ, "CNZJCG-2021-003", "城区沥青路面修补工程", "公开招标", "3450000.00", date(2021, 4, 8), 1),
    (P_JC, "CNZJCG-2021-004", "宜乐路、夏联渠道路及排水改造工程", "公开招标", "6780000.00", date(2021, 5, 12), 7),
    (P_LJ, "CNZJCG-2021-005", "公园村家属区老旧小区改造工程", "公开招标", "16850000.00", date(2021, 6, 3), 0),
    (P_LJ, "CNZJCG-2021-006", "城东社区老旧小区配套基础设施工程", "公开招标", "9320000.00", date(2021, 9, 17), 7),
    (P_PS, "CNZJCG-2021-007", "夏联渠、草桥渠清淤工程", "竞争性磋商", "3860000.00", date(2021, 4, 21), 8),
    (P_PS, "CNZJCG-2021-008", "城区排水防涝及污水处理一体化二期工程", "公开招标", "4920000.00", date(2021, 7, 6), 1),
    (P_DX, "CNZJCG-2021-009", "地下管线普查服务", "竞争性磋商", "368000.00", date(2021, 5, 26), 5),
    (P_DX, "CNZJCG-2021-010", "地下管线信息化平台设备", "询价", "198600.00", date(2021, 8, 11), 6),
    (P_XZ, "CNZJCG-2021-011", "乡镇污水处理设施及配套管网工程监理", "公开招标", "1260000.00", date(2021, 3, 30), 3),
    (P_YZ, "CNZJCG-2021-012", "办公设备采购", "询价", "186400.00", date(2021, 10, 14), 6),
    (P_RF, "CNZJCG-2021-013", "疏散基地建设工程", "竞争性磋商", "1250000.00", date(2021, 6, 22), 2),
]

CONTRACTS_2020 = [
    (P_SGT, "CNZJCG-2020-001", "施工图审查委托服务", "单一来源", "780000.00", date(2020, 3, 2), 9),
    (P_SZ, "CNZJCG-2020-002", "城区路灯设施维护", "竞争性磋商", "1050000.00", date(2020, 3, 25), 2),
    (P_SZ, "CNZJCG-2020-003", "人行道板砖维护工程", "公开招标", "2880000.00", date(2020, 5, 14), 1),
    (P_JC, "CNZJCG-2020-004", "西江道路改造工程", "公开招标", "7960000.00", date(2020, 6, 9), 7),
    (P_JC, "CNZJCG-2020-005", "谷家州小游园工程", "竞争性磋商", "1380000.00", date(2020, 8, 18), 2),
    (P_LJ, "CNZJCG-2020-006", "桃江路老旧小区改造工程", "公开招标", "8650000.00", date(2020, 5, 6), 0),
    (P_LJ, "CNZJCG-2020-007", "红星老旧小区改造工程", "公开招标", "6420000.00", date(2020, 5, 28), 7),
    (P_LJ, "CNZJCG-2020-008", "劳动路南段老旧小区改造工程", "公开招标", "9870000.00", date(2020, 9, 15), 0),
    (P_PS, "CNZJCG-2020-009", "城区排水防涝及污水处理一体化一期工程", "公开招标", "5630000.00", date(2020, 6, 30), 8),
    (P_GS, "CNZJCG-2020-010", "城区供水管网改造工程", "公开招标", "3850000.00", date(2020, 7, 21), 8),
    (P_LJC, "CNZJCG-2020-011", "建筑垃圾消纳场建设工程", "竞争性磋商", "2960000.00", date(2020, 8, 4), 2),
    (None, "CNZJCG-2020-012", "办公电脑及打印设备采购", "询价", "34600.00", date(2020, 4, 23), 6),
    (None, "CNZJCG-2020-013", "公务用车购置", "协议供货", "179800.00", date(2020, 10, 12), 10),
    (P_RF, "CNZJCG-2020-014", "人防指挥通信设备采购", "竞争性磋商", "380000.00", date(2020, 7, 8), 6),
]

# ---------------------------------------------------------------------------
# Project ledger (项目台账)
# ---------------------------------------------------------------------------

LEDGER_2021 = [
    # code, start, end, status
    (P_SGT, date(2021, 1, 1), date(2021, 12, 31), "持续实施"),
    (P_SZ, date(2021, 1, 1), date(2021, 12, 31), "持续实施"),
    (P_JC, date(2020, 3, 1), date(2022, 6, 30), "实施中"),
    (P_LJ, date(2020, 4, 15), date(2022, 12, 31), "实施中"),
    (P_PS, date(2020, 5, 10), date(2022, 6, 30), "实施中"),
    (P_PH, date(2019, 3, 1), date(2021, 12, 31), "已完工"),
    (P_DX, date(2021, 4, 1), date(2021, 12, 31), "已完工"),
    (P_JK, date(2021, 6, 1), date(2021, 12, 31), "已完工"),
    (P_WSF, date(2021, 1, 1), date(2021, 12, 31), "持续实施"),
    (P_WF, date(2021, 3, 1), date(2021, 12, 15), "已完工"),
    (P_XZ, date(2020, 6, 1), date(2022, 12, 31), "实施中"),
    (P_TL, date(2021, 7, 1), date(2023, 6, 30), "实施中"),
    (P_YZ, date(2021, 1, 1), date(2021, 12, 31), "已完工"),
    (P_RF, date(2021, 3, 1), date(2021, 12, 31), "已完工"),
]
LEDGER_2020 = [
    (P_SGT, date(2020, 1, 1), date(2020, 12, 31), "持续实施"),
    (P_SZ, date(2020, 1, 1), date(2020, 12, 31), "持续实施"),
    (P_JC, date(2020, 3, 1), date(2022, 6, 30), "实施中"),
    (P_LJ, date(2020, 4, 15), date(2022, 12, 31), "实施中"),
    (P_PS, date(2020, 5, 10), date(2022, 6, 30), "实施中"),
    (P_PH, date(2019, 3, 1), date(2021, 12, 31), "实施中"),
    (P_WSF, date(2020, 1, 1), date(2020, 12, 31), "持续实施"),
    (P_WF, date(2020, 3, 1), date(2020, 12, 20), "已完工"),
    (P_XZ, date(2020, 6, 1), date(2022, 12, 31), "实施中"),
    (P_YZ, date(2020, 1, 1), date(2020, 12, 31), "已完工"),
    (P_RF, date(2020, 3, 1), date(2020, 12, 31), "已完工"),
    (P_GS, date(2020, 4, 1), date(2020, 11, 30), "已完工"),
    (P_LJC, date(2020, 5, 1), date(2021, 3, 31), "实施中"),
]

# (project or None, 一级, 二级, 三级, 计量单位, 方向, 目标, 实际, 分值 (2021 only), 偏差原因)
INDICATORS_2021 = [
    (None, "产出指标", "数量指标", "铺设沥青混凝土", "㎡", "≥", "12000", "13191.68", "6", ""),
    (None, "产出指标", "数量指标", "铺设污水、雨水管", "m", "≥", "12000", "12526.6", "6", ""),
    (None, "产出指标", "数量指标", "砌筑雨（污）水井", "座", "≥", "1100", "1189", "5", ""),
    (None, "产出指标", "数量指标", "铺设交通标线", "m", "≥", "4500", "4645.8", "5", ""),
    (None, "产出指标", "数量指标", "更换LED灯泡", "个", "≥", "250", "260", "4", ""),
    (None, "产出指标", "数量指标", "危房改造完成", "户", "≥", "180", "176", "5",
     "4户农户因自身原因放弃改造，已按程序退出"),
    (None, "产出指标", "质量指标", "路灯亮灯率", "%", "≥", "95", "95", "5", ""),
    (None, "产出指标", "质量指标", "污水处理率", "%", "≥", "95", "96.5", "5", ""),
    (None, "产出指标", "时效指标", "危房改造补助资金拨付及时率", "%", "≥", "100", "100", "4", ""),
    (None, "产出指标", "成本指标", "工程造价控制在批复概算内", "%", "≤", "100", "98.6", "5", ""),
    (None, "效益指标", "经济效益指标", "人防易地建设费收取", "万元", "≥", "500", "529", "6", ""),
    (None, "效益指标", "社会效益指标", "城区污水处理量", "万吨", "≥", "700", "736.67", "6", ""),
    (None, "效益指标", "生态效益指标", "COD削减量", "吨", "≥", "1000", "1058.72", "6", ""),
    (None, "效益指标", "社会效益指标", "老旧小区改造惠及居民户数", "户", "≥", "2500", "2368", "6",
     "劳动路南段、肉食水产公司家属院2个小区未完工，预计12月底完成"),
    (None, "效益指标", "可持续影响指标", "市政设施正常运行率", "%", "≥", "95", "98", "6", ""),
    (None, "满意度指标", "服务对象满意度指标", "服务对象满意度", "%", "≥", "90", "95", "10", ""),
    (P_RF, "产出指标", "数量指标", "批复结建工程面积", "㎡", "≥", "6000", "15013", "20", ""),
    (P_RF, "产出指标", "数量指标", "组织人防演练", "次", "≥", "1", "2", "10", ""),
    (P_LJ, "产出指标", "数量指标", "老旧小区改造项目立项初设完成数", "个", "≥", "6", "6", "20", ""),
    (P_XZ, "产出指标", "时效指标", "任务清单乡镇污水处理厂按期通水数", "个", "≥", "6", "5", "20",
     "官岭镇污水处理厂受征地影响，预计次年一季度通水"),
    (P_TL, "产出指标", "数量指标", "塔岭水厂新增日供水能力", "万吨", "≥", "5", "5", "20", ""),
]
INDICATORS_2020 = [
    (None, "产出指标", "数量指标", "铺设沥青混凝土", "㎡", "≥", "10000", "11265.4", "", ""),
    (None, "产出指标", "数量指标", "铺设污水、雨水管", "m", "≥", "10000", "10872.3", "", ""),
    (None, "产出指标", "数量指标", "砌筑雨（污）水井", "座", "≥", "900", "946", "", ""),
    (None, "产出指标", "数量指标", "更换LED灯泡", "个", "≥", "300", "315", "", ""),
    (None, "产出指标", "数量指标", "危房改造完成", "户", "≥", "250", "262", "", ""),
    (None, "产出指标", "数量指标", "老旧小区改造完成数", "个", "≥", "10", "8", "",
     "劳动路南段、肉食水产公司家属院2个小区跨年实施"),
    (None, "产出指标", "质量指标", "路灯亮灯率", "%", "≥", "95", "96", "", ""),
    (None, "产出指标", "质量指标", "污水处理率", "%", "≥", "95", "95.8", "", ""),
    (None, "产出指标", "时效指标", "危房改造补助资金拨付及时率", "%", "=", "100", "100", "", ""),
    (None, "产出指标", "成本指标", "工程造价控制在批复概算内", "%", "≤", "100", "99.2", "", ""),
    (None, "效益指标", "经济效益指标", "人防易地建设费收取", "万元", "≥", "450", "487", "", ""),
    (None, "效益指标", "社会效益指标", "城区污水处理量", "万吨", "≥", "680", "702.35", "", ""),
    (None, "效益指标", "生态效益指标", "COD削减量", "吨", "≥", "950", "1003.6", "", ""),
    (None, "效益指标", "可持续影响指标", "市政设施正常运行率", "%", "≥", "95", "97", "", ""),
    (None, "满意度指标", "服务对象满意度指标", "服务对象满意度", "%", "≥", "90", "93", "", ""),
    (P_RF, "产出指标", "数量指标", "批复结建工程面积", "㎡", "≥", "6000", "9860", "", ""),
    (P_RF, "产出指标", "数量指标", "组织人防演练", "次", "≥", "1", "1", "", ""),
    (P_LJ, "产出指标", "数量指标", "老旧小区改造开工数", "个", "≥", "10", "10", "", ""),
]

STAFFING = {2021: (301, 301, 89), 2020: (301, 298, 86)}


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


def write_csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        w.writerow(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))  # strict: fails on anything GBK cannot hold


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties(dict(XLSX_PROPERTIES))
    return wb


class Noise:
    """Stray half- and full-width spaces around some values."""

    def __init__(self, seed: int, p: float):
        self.rng = random.Random(seed)
        self.p = p

    def __call__(self, s: str) -> str:
        if not s or self.rng.random() >= self.p:
            return s
        sp = self.rng.choice([" ", "\u3000", "  "])
        where = self.rng.randrange(3)
        return sp + s if where == 0 else s + sp if where == 1 else sp + s + sp


def voucher_months(vouchers, months) -> list[Voucher]:
    return [v for v in vouchers if v.date.month in months]


def month_totals(vouchers) -> tuple[Decimal, Decimal]:
    dr = sum((ln.debit for v in vouchers for ln in v.lines), ZERO)
    cr = sum((ln.credit for v in vouchers for ln in v.lines), ZERO)
    return dr, cr


# CSV voucher files: per-file configuration of headers and value formats.
CSV_VOUCHER_FILES = {
    "Q1": dict(
        months=(1, 2, 3), encoding="gbk", unit_title=True, pad_titles=True,
        headers=["凭证日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                 "功能分类", "经济分类", "项目编码", "资金性质", "支付方式"],
        date=lambda d, r: cn_date(d) if r.random() < 0.1 else d.isoformat(),
        amount_style="comma", zero="", neg="paren_full", cls=("space", 0.15, "plain"), project="code",
        fullwidth=0.01, noise=0.03, label_col="摘要", blank_after_month=True, end=["合计"],
    ),
    "Q2": dict(
        months=(4, 5, 6), encoding="gbk", unit_title=False, pad_titles=False,
        headers=["单位编码", "单位名称", "记账日期", "凭证字号", "序号", "摘要", "会计科目编码", "会计科目",
                 "借方", "贷方", "支出功能分类", "部门经济分类", "项目", "资金来源"],
        date=lambda d, r: f"{d.year}/{d.month}/{d.day}",
        amount_style="plain", zero="-", neg="paren_full", cls=("bracket", 0.1, "space"), project="code name",
        fullwidth=0.0, noise=0.02, label_col="摘要", blank_after_month=False, end=["本年累计"],
    ),
    "Q3": dict(
        months=(7, 8, 9), encoding="utf-8-sig", unit_title=True, pad_titles=False,
        headers=["日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                 "功能科目", "支出经济分类", "项目编码", "资金性质"],
        date=lambda d, r: d.isoformat() if r.random() < 0.1 else d.strftime("%Y%m%d"),
        amount_style="comma", zero="0.00", neg="paren", cls=("dash", 0.1, "plain"), project="code",
        fullwidth=0.02, noise=0.03, label_col="日期", blank_after_month=False, end=["合计", "本年累计"],
    ),
}

COLUMN_KEYS = {
    "单位编码": "unit_code", "单位名称": "unit_name",
    "凭证日期": "date", "记账日期": "date", "日期": "date",
    "凭证号": "no", "凭证字号": "no", "分录号": "line_no", "序号": "line_no", "摘要": "summary",
    "科目编码": "account", "会计科目编码": "account", "科目名称": "account_name", "会计科目": "account_name",
    "借方金额": "debit", "借方": "debit", "贷方金额": "credit", "贷方": "credit",
    "功能分类": "func", "支出功能分类": "func", "功能科目": "func",
    "经济分类": "econ", "部门经济分类": "econ", "支出经济分类": "econ",
    "项目编码": "project", "项目": "project", "资金性质": "fund", "资金来源": "fund", "支付方式": "paymethod",
}


def account_of(ln: Line, sub: bool) -> tuple[str, str]:
    """Account code and name; the 2020 export uses the system's sub-accounts for 7101 and 5001."""
    code, name = ln.account, ACCOUNTS[ln.account]
    if not sub:
        return code, name
    if code == "7101":
        suffix = {SPEC: ("02", "非财政专项资金支出"), UNITF: ("03", "其他资金支出")}.get(ln.fund, ("01", "财政拨款支出"))
        return code + suffix[0], f"{name}-{suffix[1]}"
    if code == "5001":
        if ln.econ is None:
            return "500104", f"{name}-固定资产折旧费"
        if ln.econ.startswith("301"):
            return "500101", f"{name}-工资福利费用"
        return "500102", f"{name}-商品和服务费用"
    return code, name


def write_voucher_csv(path: Path, vouchers_all: list[Voucher], key: str, seed: int) -> None:
    cfg = CSV_VOUCHER_FILES[key]
    rng = random.Random(seed)
    noise = Noise(seed + 1, cfg["noise"])
    months = cfg["months"]
    year = vouchers_all[0].date.year
    ncol = len(cfg["headers"])
    start, end = date(year, months[0], 1), month_end(year, months[-1])

    def title(text: str) -> list[str]:
        return [text] + [""] * (ncol - 1) if cfg["pad_titles"] else [text]

    rows = [title("序时账")]
    if cfg["unit_title"]:
        rows.append(title(UNIT_LINE))
    rows.append(title(f"{cn_date(start)}至{cn_date(end)}"))
    rows.append(title("单位：元"))
    rows.append(list(cfg["headers"]))

    def amount(value: Decimal) -> str:
        if value == 0:
            return cfg["zero"]
        style = cfg["amount_style"]
        if style == "plain" and rng.random() < 0.3:
            style = "comma"
        s = fmt_amount(value, style, cfg["neg"])
        if value > 0 and rng.random() < cfg["fullwidth"]:
            s = fullwidth(s)
        return noise(s)

    def cls(code: str | None, names: dict) -> str:
        if not code:
            return ""
        main, p_alt, alt = cfg["cls"]
        return noise(fmt_cls(code, names, alt if rng.random() < p_alt else main))

    def footer(label: str, dr: Decimal, cr: Decimal) -> list[str]:
        row = [""] * ncol
        row[cfg["headers"].index(cfg["label_col"])] = label
        row[[COLUMN_KEYS[h] for h in cfg["headers"]].index("debit")] = fmt_amount(dr, "comma", "minus")
        row[[COLUMN_KEYS[h] for h in cfg["headers"]].index("credit")] = fmt_amount(cr, "comma", "minus")
        return row

    for m in months:
        month_vs = voucher_months(vouchers_all, (m,))
        for v in month_vs:
            dtext = cfg["date"](v.date, rng)
            for n, ln in enumerate(v.lines, start=1):
                acode, aname = account_of(ln, sub=False)
                values = {
                    "unit_code": UNIT_CODE, "unit_name": UNIT_NAME, "date": noise(dtext), "no": noise(v.no),
                    "line_no": str(n), "summary": noise(v.summary), "account": noise(acode), "account_name": aname,
                    "debit": amount(ln.debit), "credit": amount(ln.credit),
                    "func": cls(ln.func, FUNC), "econ": cls(ln.econ, ECON),
                    "project": "" if not ln.project else noise(
                        ln.project if cfg["project"] == "code" else f"{ln.project} {PROJECT_INFO[ln.project][0]}"),
                    "fund": noise(ln.fund or ""), "paymethod": v.paymethod,
                }
                rows.append([values[COLUMN_KEYS[h]] for h in cfg["headers"]])
        dr, cr = month_totals(month_vs)
        rows.append(footer("本月合计", dr, cr))
        if cfg["blank_after_month"]:
            rows.append([""] * ncol if cfg["pad_titles"] else [])
    if key == "Q3":
        rows.append([])
    for label in cfg["end"]:
        scope = voucher_months(vouchers_all, months if label == "合计" else range(1, months[-1] + 1))
        rows.append(footer(label, *month_totals(scope)))
    write_csv(path, rows, cfg["encoding"])


def write_voucher_xlsx(path: Path, vouchers: list[Voucher], months, seed: int, in_wan: bool) -> None:
    """Q4 2021 (yuan, 单位编码 column) or FY2020 (万元, unit on a title line, sub-accounts)."""
    rng = random.Random(seed)
    noise = Noise(seed + 1, 0.02)
    year = vouchers[0].date.year
    wb = new_workbook(path)
    ws = wb.add_worksheet("序时账")
    f_title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    f_head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    f_money = wb.add_format({"num_format": "#,##0.00####" if in_wan else "#,##0.00"})
    f_bold_money = wb.add_format({"bold": True, "num_format": "#,##0.00####" if in_wan else "#,##0.00"})
    f_bold = wb.add_format({"bold": True})
    if in_wan:
        headers = ["凭证日期", "凭证字号", "序号", "摘要", "会计科目编码", "会计科目", "借方", "贷方",
                   "功能分类", "部门经济分类", "项目", "资金来源", "支付方式"]
        titles = ["序时账", f"单位名称：{UNIT_CODE} {UNIT_NAME}",
                  f"{cn_date(date(year, months[0], 1))}至{cn_date(month_end(year, months[-1]))}", "单位：万元"]
    else:
        headers = ["单位编码", "记账日期", "凭证号", "分录号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额",
                   "功能分类", "经济分类", "项目编码", "资金性质", "支付方式"]
        titles = ["序时账", f"{cn_date(date(year, months[0], 1))}至{cn_date(month_end(year, months[-1]))}", "单位：元"]
    keys = [COLUMN_KEYS[h] for h in headers]
    ws.merge_range(0, 0, 0, len(headers) - 1, titles[0], f_title)
    for r, t in enumerate(titles[1:], start=1):
        ws.write_string(r, 0, t)
    row = len(titles)
    ws.write_row(row, 0, headers, f_head)
    ws.set_column(0, 0, 12)
    ws.set_column(keys.index("summary"), keys.index("summary"), 36)
    ws.set_column(keys.index("debit"), keys.index("credit"), 16)
    row += 1
    ws.freeze_panes(row, 0)
    serial_base = date(1899, 12, 30)

    def put_amount(r: int, c: int, value: Decimal, fmt=f_money, plain=False) -> None:
        v = wan(value) if in_wan else value
        if value == 0:
            if in_wan and rng.random() < 0.1:
                ws.write_string(r, c, "-")
            return
        if not plain and rng.random() < 0.05:
            ws.write_string(r, c, noise(fmt_amount(v, "comma", "minus")))
        else:
            ws.write_number(r, c, xlsx_float(v), fmt)

    def put_date(r: int, c: int, d: date) -> None:
        x = rng.random()
        if x < 0.12:
            ws.write_number(r, c, (d - serial_base).days)  # a bare Excel serial number
        elif x < 0.2:
            ws.write_string(r, c, cn_date(d) if in_wan or x < 0.16 else d.isoformat())
        else:
            ws.write_datetime(r, c, datetime(d.year, d.month, d.day), f_date)

    def footer(label: str, dr: Decimal, cr: Decimal) -> None:
        nonlocal row
        ws.write_string(row, keys.index("summary"), label, f_bold)
        put_amount(row, keys.index("debit"), dr, f_bold_money, plain=True)
        put_amount(row, keys.index("credit"), cr, f_bold_money, plain=True)
        row += 1

    cls_styles = ["space", "plain"] if in_wan else ["plain", "plain", "plain", "space"]
    for m in months:
        month_vs = voucher_months(vouchers, (m,))
        for v in month_vs:
            for n, ln in enumerate(v.lines, start=1):
                acode, aname = account_of(ln, sub=in_wan)
                for c, k in enumerate(keys):
                    if k == "unit_code":
                        ws.write_string(row, c, UNIT_CODE)
                    elif k == "date":
                        put_date(row, c, v.date)
                    elif k == "no":
                        ws.write_string(row, c, v.no)
                    elif k == "line_no":
                        ws.write_number(row, c, n)
                    elif k == "summary":
                        ws.write_string(row, c, noise(v.summary))
                    elif k == "account":
                        ws.write_string(row, c, noise(acode))
                    elif k == "account_name":
                        ws.write_string(row, c, aname)
                    elif k in ("debit", "credit"):
                        put_amount(row, c, ln.debit if k == "debit" else ln.credit)
                    elif k in ("func", "econ") and getattr(ln, k):
                        names = FUNC if k == "func" else ECON
                        ws.write_string(row, c, noise(fmt_cls(getattr(ln, k), names, rng.choice(cls_styles))))
                    elif k == "project" and ln.project:
                        text = f"{ln.project} {PROJECT_INFO[ln.project][0]}" if in_wan else ln.project
                        ws.write_string(row, c, noise(text))
                    elif k == "fund" and ln.fund:
                        ws.write_string(row, c, noise(ln.fund))
                    elif k == "paymethod" and v.paymethod:
                        ws.write_string(row, c, v.paymethod)
                row += 1
        footer("本月合计", *month_totals(month_vs))
        if in_wan and m % 4 == 0:
            row += 1  # a blank row now and then
    row += 1
    footer("本年累计", *month_totals(voucher_months(vouchers, range(1, months[-1] + 1))))
    wb.close()


def budget_csv(path: Path, lines: list[BudgetLine], year: int) -> None:
    rows = [[f"{year}年度部门预算指标明细表"], ["单位：元"],
            ["单位编码", "年度", "指标文号", "指标类型", "功能分类", "经济分类", "项目编码", "项目名称",
             "资金性质", "金额", "政府采购预算"]]
    noise = Noise(year * 7, 0.04)
    for bl in lines:
        econ_style = "space" if len(bl.econ) == 5 else "plain"
        rows.append([
            UNIT_CODE, str(year), bl.doc, noise(bl.kind), noise(fmt_cls(bl.func, FUNC, "space")),
            fmt_cls(bl.econ, ECON, econ_style), bl.project or "",
            PROJECT_INFO[bl.project][0] if bl.project else "", noise(bl.fund),
            fmt_amount(bl.amount, "comma", "minus"),
            fmt_amount(bl.procurement, "comma") if bl.procurement else "",
        ])
    total = sum((bl.effective for bl in lines), ZERO)
    proc = sum((bl.procurement or ZERO for bl in lines), ZERO)
    rows.append(["合计", "", "", "", "", "", "", "", "", fmt_amount(total, "comma"), fmt_amount(proc, "comma")])
    write_csv(path, rows, "utf-8-sig")


def budget_xlsx_wan(path: Path, lines: list[BudgetLine], year: int) -> None:
    wb = new_workbook(path)
    ws = wb.add_worksheet("预算指标")
    f_head = wb.add_format({"bold": True, "border": 1})
    f_money = wb.add_format({"num_format": "#,##0.00####"})
    ws.write_string(0, 0, f"{year}年预算指标台账", wb.add_format({"bold": True, "font_size": 14}))
    ws.write_string(1, 0, "单位：万元")
    headers = ["单位编码", "预算年度", "文号", "指标类型", "功能分类", "经济分类", "项目编码", "资金性质", "金额", "政府采购预算"]
    ws.write_row(2, 0, headers, f_head)
    ws.set_column(2, 2, 20)
    ws.set_column(4, 4, 30)
    r = 3
    for i, bl in enumerate(lines):
        ws.write_string(r, 0, UNIT_CODE)
        ws.write_number(r, 1, year)
        ws.write_string(r, 2, bl.doc)
        ws.write_string(r, 3, bl.kind)
        ws.write_string(r, 4, fmt_cls(bl.func, FUNC, "bracket"))
        ws.write_string(r, 5, bl.econ)
        if bl.project:
            ws.write_string(r, 6, bl.project)
        ws.write_string(r, 7, bl.fund)
        if i % 9 == 4:
            ws.write_string(r, 8, fmt_amount(wan(bl.amount), "comma", "minus"))  # some amounts as text
        else:
            ws.write_number(r, 8, xlsx_float(wan(bl.amount)), f_money)
        if bl.procurement:
            ws.write_number(r, 9, xlsx_float(wan(bl.procurement)), f_money)
        r += 1
    ws.write_string(r, 0, "合计")
    ws.write_number(r, 8, xlsx_float(wan(sum((bl.effective for bl in lines), ZERO))), f_money)
    wb.close()


def ledger_xlsx(path: Path, year: int, entries, indicators, unit_as_column: bool) -> None:
    wb = new_workbook(path)
    f_head = wb.add_format({"bold": True, "border": 1, "bg_color": "#E2EFDA"})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    rng = random.Random(year * 11)

    def sheet(name: str, headers: list[str]):
        ws = wb.add_worksheet(name)
        r = 0
        if not unit_as_column:
            ws.write_string(0, 0, UNIT_LINE)
            r = 1
        ws.write_row(r, 0, (["单位编码"] if unit_as_column else []) + headers, f_head)
        return ws, r + 1

    ws, r = sheet("项目", ["项目编码", "项目名称", "项目类别", "责任股室", "是否重点项目", "公开属性",
                         "开工日期", "计划完工日期", "状态", "年度"])
    ws.set_column(0, 3, 18)
    ws.set_column(2 if unit_as_column else 1, 2 if unit_as_column else 1, 48)
    for code, start, end, status in entries:
        name, category, office, is_key, _ = PROJECT_INFO[code]
        values = [code, name, category, office, is_key, "涉密" if code == P_RF else "公开", start, end, status, year]
        if unit_as_column:
            values = [UNIT_CODE] + values
        for c, v in enumerate(values):
            if isinstance(v, date):
                if unit_as_column:
                    ws.write_datetime(r, c, datetime(v.year, v.month, v.day), f_date)
                else:
                    ws.write_string(r, c, cn_date(v) if rng.random() < 0.5 else f"{v.year}/{v.month}/{v.day}")
            elif isinstance(v, int):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v)
        r += 1

    ws, r = sheet("绩效指标", ["项目编码", "一级指标", "二级指标", "三级指标", "计量单位", "指标方向", "年度指标值",
                           "实际完成值", "分值", "年度", "偏差原因"])
    ws.set_column(3 if unit_as_column else 2, 3 if unit_as_column else 2, 30)
    for proj, l1, l2, name, unit, direction, target, actual, weight, note in indicators:
        values = [proj or "", l1, l2, name, unit, direction, D(target), D(actual),
                  D(weight) if weight else "", year, note]
        if unit_as_column:
            values = [UNIT_CODE] + values
        for c, v in enumerate(values):
            if isinstance(v, Decimal):
                ws.write_number(r, c, xlsx_float(v))
            elif isinstance(v, int):
                ws.write_number(r, c, v)
            elif v:
                ws.write_string(r, c, v)
        r += 1
    wb.close()


def staffing_csv(path: Path, year: int) -> None:
    a, i, r = STAFFING[year]
    write_csv(path, [["单位编码", "年度", "编制数", "实有在职人数", "离退休人数"],
                     [UNIT_CODE, str(year), str(a), str(i), str(r)]], "utf-8")


def procurement_xlsx(path: Path, year: int, contracts) -> None:
    wb = new_workbook(path)
    ws = wb.add_worksheet("政府采购台账")
    f_head = wb.add_format({"bold": True, "border": 1})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    f_money = wb.add_format({"num_format": "#,##0.00"})
    headers = ["单位编码", "年度", "项目编码", "合同编号", "合同名称", "采购方式", "供应商", "合同金额", "签订日期"]
    ws.write_row(0, 0, headers, f_head)
    ws.set_column(3, 6, 24)
    r = 1
    for proj, no, name, method, amount, d, sup in contracts:
        ws.write_string(r, 0, UNIT_CODE)
        ws.write_number(r, 1, year)
        if proj:
            ws.write_string(r, 2, proj)
        ws.write_string(r, 3, no)
        ws.write_string(r, 4, name)
        ws.write_string(r, 5, method)
        ws.write_string(r, 6, SUPPLIERS[sup])
        ws.write_number(r, 7, xlsx_float(D(amount)), f_money)
        ws.write_datetime(r, 8, datetime(d.year, d.month, d.day), f_date)
        r += 1
    ws.write_string(r, 0, "合计")
    ws.write_number(r, 7, xlsx_float(sum((D(c[4]) for c in contracts), ZERO)), f_money)
    wb.close()


def procurement_csv_gbk(path: Path, year: int, contracts) -> None:
    rows = [[f"{year}年政府采购合同台账"], ["单位：元"],
            ["单位编码", "年度", "项目编码", "合同编号", "合同名称", "采购方式", "供应商", "合同金额", "签订日期"]]
    for i, (proj, no, name, method, amount, d, sup) in enumerate(contracts):
        dtext = cn_date(d) if i % 3 == 2 else f"{d.year}/{d.month}/{d.day}"
        rows.append([UNIT_CODE, str(year), proj or "", no, name, method, SUPPLIERS[sup],
                     fmt_amount(D(amount), "comma"), dtext])
    rows.append(["合计", "", "", "", "", "", "", fmt_amount(sum((D(c[4]) for c in contracts), ZERO), "comma"), ""])
    write_csv(path, rows, "gbk")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def generate(out: Path = DEFAULT_OUT) -> list[Path]:
    """Rewrite the demo exports in ``out``; return the files written.

    The unit's narrative texts (``_texts/``, the department's own words copied from the
    seed, not generated) are kept."""
    out = Path(out)
    if out.exists():
        for child in out.iterdir():
            if child.name != "_texts":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    base = out / UNIT_CODE

    v21 = build_2021()
    v20 = build_2020()

    y = base / "2021"
    write_voucher_csv(y / "凭证" / "2021年1-3月序时账.csv", v21, "Q1", seed=2101)
    write_voucher_csv(y / "凭证" / "2021年4-6月序时账.csv", v21, "Q2", seed=2102)
    write_voucher_csv(y / "凭证" / "2021年7-9月序时账.csv", v21, "Q3", seed=2103)
    write_voucher_xlsx(y / "凭证" / "2021年10-12月序时账.xlsx", v21, (10, 11, 12), seed=2104, in_wan=False)
    budget_csv(y / "预算" / "2021年预算指标明细.csv", budget_2021(v21), 2021)
    ledger_xlsx(y / "项目" / "2021年项目台账.xlsx", 2021, LEDGER_2021, INDICATORS_2021, unit_as_column=True)
    staffing_csv(y / "人员" / "2021年人员情况.csv", 2021)
    procurement_xlsx(y / "采购" / "2021年政府采购台账.xlsx", 2021, CONTRACTS_2021)

    y = base / "2020"
    write_voucher_xlsx(y / "凭证" / "2020年序时账（万元）.xlsx", v20, tuple(range(1, 13)), seed=2001, in_wan=True)
    budget_xlsx_wan(y / "预算" / "2020年预算指标（万元）.xlsx", budget_2020(v20), 2020)
    ledger_xlsx(y / "项目" / "2020年项目台账.xlsx", 2020, LEDGER_2020, INDICATORS_2020, unit_as_column=False)
    staffing_csv(y / "人员" / "2020年人员情况.csv", 2020)
    procurement_csv_gbk(y / "采购" / "2020年政府采购台账.csv", 2020, CONTRACTS_2020)

    return sorted(p for p in out.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (deleted and recreated)")
    args = parser.parse_args(argv)
    for p in generate(args.out):
        print(p.relative_to(args.out), p.stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
