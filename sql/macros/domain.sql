-- Domain definitions used by several models (domain.md).
-- 三公 (domain.md): the four items, 30913 counted with 31013 公务用车购置.
CREATE OR REPLACE TEMP MACRO fw_is_three_public(econ) AS econ IN ('30212', '30217', '31013', '30913', '30231');
CREATE OR REPLACE TEMP MACRO fw_three_public_item(econ) AS CASE WHEN econ = '30913' THEN '31013' ELSE econ END;

-- 财政拨款: fund sources that are fiscal appropriations.
CREATE OR REPLACE TEMP MACRO fw_is_fiscal_appropriation(fund) AS
    coalesce(fund IN ('一般公共预算', '政府性基金预算', '国有资本经营预算'), FALSE);

-- A budget line's amount as it counts toward the final budget (contract 2.2): 追减 always
-- subtracts, whatever sign is written; 调剂 keeps the sign written, or its 调出/调入 wording
-- gives it; the other kinds as written. Its 政府采购预算, the part of the amount planned for
-- procurement, is signed the same way.
CREATE OR REPLACE TEMP MACRO fw_budget_signed(budget_kind, budget_kind_text, written) AS
    CASE
        WHEN budget_kind = '追减' THEN -abs(written)
        WHEN budget_kind = '调剂' AND contains(budget_kind_text, '调出') THEN -abs(written)
        WHEN budget_kind = '调剂' AND contains(budget_kind_text, '调入') THEN abs(written)
        ELSE written
    END;

-- Basic or project spending (or budget): the two types a budget line has; the other
-- expenditure types (经营支出, 上缴上级支出 …) are never 基本 or 项目 (contract 2.1).
CREATE OR REPLACE TEMP MACRO fw_is_basic_or_project(spending_type) AS
    coalesce(spending_type IN ('基本支出', '项目支出'), FALSE);

-- A spending or budget line counted in 三公 (contract 3, domain.md): one of the four items,
-- paid from fiscal appropriations, basic or project.
CREATE OR REPLACE TEMP MACRO fw_counts_as_three_public(econ, fund, spending_type) AS
    fw_is_three_public(econ) AND fw_is_fiscal_appropriation(fund) AND fw_is_basic_or_project(spending_type);

-- 公开属性 (contract 2.3: 公开/涉密) fails closed: only 公开, 是 (in a 是否公开 column) or an
-- empty cell is public; every other wording is 涉密, so that 不宜公开, 非公开, 内部 or a
-- typo never publishes a project. Spaces inside the cell do not count (公 开).
CREATE OR REPLACE TEMP MACRO fw_disclosure_word(t) AS
    regexp_replace(CAST(t AS VARCHAR), '[\s\x{3000}\x{a0}\x{feff}]', '', 'g');
CREATE OR REPLACE TEMP MACRO fw_disclosure(t) AS
    CASE WHEN t IS NULL OR fw_disclosure_word(t) IN ('', '公开', '是') THEN '公开' ELSE '涉密' END;
-- The wordings the loader knows (public or secret); any other is read as 涉密 and reported
-- by rule ledger_unknown_disclosure, so that the ledger's owner can check it.
CREATE OR REPLACE TEMP MACRO fw_disclosure_known(t) AS
    t IS NULL
    OR fw_disclosure_word(t) IN ('', '公开', '是', '否', '涉密', '保密', '不公开', '不予公开', '不宜公开', '非公开', '内部',
                                 '秘密', '机密', '绝密')
    OR regexp_matches(fw_disclosure_word(t), '^(涉密|保密|秘密|机密|绝密|不予公开|不公开|不宜公开|非公开|内部)');
