-- Domain definitions used by several models (domain.md).
-- 三公 (domain.md): the four items, 30913 counted with 31013 公务用车购置.
CREATE OR REPLACE TEMP MACRO fw_is_three_public(econ) AS econ IN ('30212', '30217', '31013', '30913', '30231');
CREATE OR REPLACE TEMP MACRO fw_three_public_item(econ) AS CASE WHEN econ = '30913' THEN '31013' ELSE econ END;

-- 财政拨款: fund sources that are fiscal appropriations.
CREATE OR REPLACE TEMP MACRO fw_is_fiscal_appropriation(fund) AS
    coalesce(fund IN ('一般公共预算', '政府性基金预算', '国有资本经营预算'), FALSE);
