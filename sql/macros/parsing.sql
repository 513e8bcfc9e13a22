-- Value parsing shared by every staging model (contract section 2, "Quirks").
-- Each macro returns NULL for a value it cannot read, so that staging can tell an
-- unreadable value (text present, result NULL) from an empty one.

-- Text as a person typed it: stray spaces, full-width spaces (U+3000), NBSP and BOM removed at the ends.
CREATE OR REPLACE TEMP MACRO fw_text(s) AS
    NULLIF(trim(CAST(s AS VARCHAR), ' ' || chr(9) || chr(10) || chr(13) || chr(12288) || chr(160) || chr(65279)), '');

-- Digits and punctuation folded to ASCII (full-width digits, ，．（）［］－／：), then trimmed.
CREATE OR REPLACE TEMP MACRO fw_ascii(s) AS
    fw_text(translate(CAST(s AS VARCHAR), '０１２３４５６７８９．，－（）［］／：＋　−', '0123456789.,-()[]/:+ -'));

-- An amount: `1,234.56`, `（1,234.56）`/`(1,234.56)` negative, `-` or empty zero, full-width
-- digits, `¥`/`元` decorations; multiplied by the file's scale (10000 for 万元), to the fen.
CREATE OR REPLACE TEMP MACRO fw_amount_core(t) AS
    CASE
        WHEN t IS NULL OR t IN ('-', '--', '—', '－', '/') THEN 0::DECIMAL(38, 10)
        WHEN t[1] = '(' AND t[-1] = ')' THEN -TRY_CAST(t[2:-2] AS DECIMAL(38, 10))
        ELSE TRY_CAST(t AS DECIMAL(38, 10))
    END;
CREATE OR REPLACE TEMP MACRO fw_amount(s, scale) AS
    TRY_CAST(round(fw_amount_core(regexp_replace(fw_ascii(s), '[,¥￥元\s]', '', 'g')) * CAST(scale AS DECIMAL(38, 10)), 2) AS DECIMAL(18, 2));

-- A whole number (head counts, years): `301`, `301.0`, `３０１`, `2021年`.
CREATE OR REPLACE TEMP MACRO fw_integer(s) AS
    TRY_CAST(TRY_CAST(regexp_replace(regexp_replace(fw_ascii(s), '[,\s人年度]', '', 'g'), '\.0+$', '') AS DECIMAL(18, 0)) AS BIGINT);

-- A date: 2021-03-15, 2021/3/15, 2021.3.15, 2021年3月15日, 20210315, an Excel serial number
-- (1900 date system), or an ISO timestamp whose time part is dropped.
CREATE OR REPLACE TEMP MACRO fw_date_parts(t) AS
    CASE
        WHEN regexp_full_match(t, '\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?([ T].*)?') THEN
            TRY(make_date(CAST(regexp_extract(t, '^(\d{4})', 1) AS BIGINT),
                          CAST(regexp_extract(t, '^\d{4}\s*[-/.年]\s*(\d{1,2})', 1) AS BIGINT),
                          CAST(regexp_extract(t, '^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*(\d{1,2})', 1) AS BIGINT)))
        WHEN regexp_full_match(t, '\d{8}') THEN
            TRY(make_date(CAST(t[1:4] AS BIGINT), CAST(t[5:6] AS BIGINT), CAST(t[7:8] AS BIGINT)))
        WHEN regexp_full_match(t, '\d{1,5}(\.\d+)?') THEN
            TRY(CAST(DATE '1899-12-30' + CAST(floor(CAST(t AS DOUBLE)) AS INTEGER) AS DATE))
        ELSE NULL
    END;
CREATE OR REPLACE TEMP MACRO fw_date(s) AS
    coalesce(TRY_CAST(fw_ascii(s) AS DATE), fw_date_parts(fw_ascii(s)));

-- A classification cell: `2120101`, `2120101 行政运行`, `[2120101]行政运行`, `2120101-行政运行`.
CREATE OR REPLACE TEMP MACRO fw_code(s) AS
    NULLIF(regexp_extract(fw_ascii(s), '^\[?\s*(\d+)', 1), '');
CREATE OR REPLACE TEMP MACRO fw_code_name(s) AS
    fw_text(regexp_extract(fw_ascii(s), '^\[?\s*\d+\s*\]?[\s\-—:：_]*(.*)$', 1));

-- A project cell: `code`, `code name` or `[code]name`.
CREATE OR REPLACE TEMP MACRO fw_project_code(s) AS
    CASE
        WHEN fw_text(s) IS NULL THEN NULL
        WHEN regexp_matches(fw_text(s), '^[\[【]') THEN fw_text(regexp_extract(fw_text(s), '^[\[【]([^\]】]+)[\]】]', 1))
        ELSE regexp_extract(regexp_replace(fw_text(s), chr(12288), ' ', 'g'), '^(\S+)', 1)
    END;
CREATE OR REPLACE TEMP MACRO fw_project_name(s) AS
    CASE
        WHEN fw_text(s) IS NULL THEN NULL
        WHEN regexp_matches(fw_text(s), '^[\[【]') THEN fw_text(regexp_extract(fw_text(s), '^[\[【][^\]】]+[\]】](.*)$', 1))
        ELSE fw_text(regexp_extract(regexp_replace(fw_text(s), chr(12288), ' ', 'g'), '^\S+\s+(.*)$', 1))
    END;

-- A unit or other identifier code: ASCII-folded, spaces removed.
CREATE OR REPLACE TEMP MACRO fw_id(s) AS
    NULLIF(regexp_replace(fw_ascii(s), '\s', '', 'g'), '');

-- Fund source (资金性质) to the five names of the contract; anything else kept as written.
CREATE OR REPLACE TEMP MACRO fw_fund_source(s) AS
    CASE
        WHEN fw_text(s) IS NULL THEN NULL
        WHEN contains(fw_text(s), '一般公共预算') THEN '一般公共预算'
        WHEN contains(fw_text(s), '政府性基金') THEN '政府性基金预算'
        WHEN contains(fw_text(s), '国有资本经营') THEN '国有资本经营预算'
        WHEN contains(fw_text(s), '财政专户') THEN '财政专户管理资金'
        WHEN fw_text(s) IN ('单位资金', '单位自有资金', '自有资金', '其他资金', '事业收入', '经营收入', '其他收入') THEN '单位资金'
        ELSE fw_text(s)
    END;

-- Footer rows of an export (合计, 小计, 本月合计, 本年累计 ...).
CREATE OR REPLACE TEMP MACRO fw_is_footer_text(s) AS
    regexp_full_match(regexp_replace(coalesce(fw_text(s), ''), '[\s' || chr(12288) || ']', '', 'g'),
                      '(本月合计|本年累计|本期合计|本日合计|本月累计|本年合计|本期累计|合计|小计|总计|累计)[:：]?.*');
CREATE OR REPLACE TEMP MACRO fw_is_footer_word(s) AS
    regexp_replace(coalesce(fw_text(s), ''), '[\s' || chr(12288) || ':：]', '', 'g')
        IN ('本月合计', '本年累计', '本期合计', '本日合计', '本月累计', '本年合计', '本期累计', '合计', '小计', '总计', '累计');

-- 是/否 cells.
CREATE OR REPLACE TEMP MACRO fw_bool(s) AS
    CASE
        WHEN fw_text(s) IN ('是', 'Y', 'y', 'YES', 'Yes', 'yes', 'TRUE', 'True', 'true', '1', '√', '重点') THEN TRUE
        WHEN fw_text(s) IN ('否', 'N', 'n', 'NO', 'No', 'no', 'FALSE', 'False', 'false', '0', '×', '非重点') THEN FALSE
        ELSE NULL
    END;

