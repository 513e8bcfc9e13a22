-- Value parsing shared by every staging model (contract section 2, "Quirks").
-- Each macro returns NULL for a value it cannot read, so that staging can tell an
-- unreadable value (text present, result NULL) from an empty one.
--
-- Speed matters (tens of millions of cells): DuckDB expands macros inline, so a macro
-- that uses its argument twice evaluates it twice. The building blocks below return ''
-- rather than NULL (NULLIF repeats its argument), and each parser tries the cheap cast of
-- a clean value first: CASE evaluates a branch only for the rows that reach it, and
-- COALESCE an argument only for the rows the ones before it left NULL (measured with
-- duckdb 2.0.1), while a value written in a WHEN and again in its THEN is computed twice.

-- Stray spaces, tabs, full-width spaces (U+3000), NBSP and BOM removed at both ends. The
-- last three are written as the characters themselves: DuckDB's E'' strings know no \u.
CREATE OR REPLACE TEMP MACRO fw_trim_set(x) AS
    trim(CAST(x AS VARCHAR), E' \t\r\n　 ﻿');
-- For columns: most cells need no trimming, and testing the ends is cheaper than trimming.
-- The ends are tested by code point (tab, LF, form feed, CR, space, NBSP, U+3000, BOM: the
-- characters the regular expression [\s\x{3000}\x{a0}\x{feff}] matched): half the CPU of the
-- regular expression, which ran on every cell (0.09 against 0.18 s a million cells, one thread).
CREATE OR REPLACE TEMP MACRO fw_padded(s) AS
    unicode(s) IN (9, 10, 12, 13, 32, 160, 12288, 65279) OR unicode(s[-1]) IN (9, 10, 12, 13, 32, 160, 12288, 65279);
CREATE OR REPLACE TEMP MACRO fw_trim(s) AS
    CASE WHEN fw_padded(s) THEN fw_trim_set(s) ELSE s END;
CREATE OR REPLACE TEMP MACRO fw_text(s) AS
    CASE
        WHEN s IS NULL OR s = '' THEN NULL
        WHEN fw_padded(s) THEN NULLIF(fw_trim_set(s), '')
        ELSE s
    END;

-- Digits and punctuation folded to ASCII (full-width digits, ，．（）［］－／：), then trimmed.
-- For values only (codes, amounts, numbers, dates): names and free text keep their
-- characters (an official name has full-width brackets: 常宁市住房和城乡建设局（人防办）).
CREATE OR REPLACE TEMP MACRO fw_fold(s) AS
    fw_trim_set(translate(CAST(s AS VARCHAR), '０１２３４５６７８９．，－（）［］／：＋　−', '0123456789.,-()[]/:+ -'));
CREATE OR REPLACE TEMP MACRO fw_ascii(s) AS
    NULLIF(fw_fold(s), '');

-- The money units an amount may be stated in, and their factors to yuan: the one list.
-- A title line (`单位：千元`, `金额单位：亿元`) or a header (`金额（万元）`) names the unit of
-- a file or column (pipelines/landing/money.py reads the list from here), a cell (`1元`) its
-- own. NULL for any other unit: an amount in it cannot be read.
CREATE OR REPLACE TEMP MACRO fw_money_unit_factor(u) AS
    CASE u WHEN '元' THEN 1 WHEN '千元' THEN 1000 WHEN '万元' THEN 10000 WHEN '亿元' THEN 100000000 END;

-- The factor of an amount column: the one its header names (`金额（千元）`; meta.sources.
-- scaled_columns, a JSON object {column: factor}), else the file's scale (its unit line).
CREATE OR REPLACE TEMP MACRO fw_column_scale(scaled_columns, col, scale) AS
    CASE
        WHEN scaled_columns IS NULL THEN scale
        ELSE coalesce(TRY_CAST(json_extract_string(scaled_columns, '$.' || col) AS DECIMAL(18, 2)), scale)
    END;

-- An amount: `1,234.56`, `（1,234.56）`/`(1,234.56)` negative, `-` or empty zero, full-width
-- digits, a `¥` decoration; multiplied by the file's scale (10000 for 万元), to the fen. A
-- cell that names its unit (`1元`, `(1.5万元)`, at its end or inside the closing bracket)
-- is in that unit, whatever the file's: `1元` in a 万元 file is 1.00, `1万元` in a 元 file
-- 10,000.00; one in a unit fw_money_unit_factor does not know (`1美元`) is unreadable.
CREATE OR REPLACE TEMP MACRO fw_amount_core(t) AS
    CASE
        WHEN t IS NULL OR t IN ('', '-', '--', '—', '/') THEN 0::DECIMAL(38, 10)
        WHEN t[1] = '(' AND t[-1] = ')' THEN -TRY_CAST(t[2:-2] AS DECIMAL(38, 10))
        ELSE TRY_CAST(t AS DECIMAL(38, 10))
    END;
CREATE OR REPLACE TEMP MACRO fw_amount_scaled(t, scale) AS
    TRY_CAST(round(fw_amount_core(regexp_replace(t, '[,¥￥\s]', '', 'g')) * CAST(scale AS DECIMAL(38, 10)), 2)
             AS DECIMAL(18, 2));
-- `t` folded and holding 元: the number before the unit (and the closing bracket after it),
-- in the unit's factor; NULL when the unit is not at the end or not known.
CREATE OR REPLACE TEMP MACRO fw_amount_in_own_unit(t) AS
    fw_amount_scaled(regexp_replace(t, '^([^元]*?)\s*([^0-9.,()+\-¥￥\s]*元)\s*(\)?)$', '\1\3'),
                     fw_money_unit_factor(regexp_extract(t, '^[^元]*?\s*([^0-9.,()+\-¥￥\s]*元)\s*\)?$', 1)));
CREATE OR REPLACE TEMP MACRO fw_amount_slow(s, scale) AS
    CASE
        WHEN contains(s, '元') THEN fw_amount_in_own_unit(fw_fold(s))
        ELSE fw_amount_scaled(fw_fold(s), scale)
    END;
-- The clean cell's cast is written once, in a COALESCE (in a WHEN and again in its THEN it
-- cost 0.4 s more CPU for 5,000,000 lines' debit and credit).
CREATE OR REPLACE TEMP MACRO fw_amount(s, scale) AS
    CASE
        WHEN s IS NULL OR s = '' THEN 0::DECIMAL(18, 2)
        WHEN scale = 1 THEN coalesce(TRY_CAST(replace(s, ',', '') AS DECIMAL(18, 2)), fw_amount_slow(s, scale))
        ELSE fw_amount_slow(s, scale)
    END;

-- A whole number (head counts, years): `301`, `301.0`, `３０１`, `2021年`.
CREATE OR REPLACE TEMP MACRO fw_integer(s) AS
    coalesce(TRY_CAST(s AS BIGINT),
             TRY_CAST(TRY_CAST(regexp_replace(regexp_replace(fw_fold(s), '[,\s人年度]', '', 'g'), '\.0+$', '')
                               AS DECIMAL(18, 0)) AS BIGINT));

-- A number that is not money (a weight, a score): a finite DOUBLE, else NULL. TRY_CAST alone
-- reads 'nan', 'inf' and '1e400' as numbers, which no mart, Parquet reader or XLSX can hold.
CREATE OR REPLACE TEMP MACRO fw_number(s) AS
    CASE WHEN isfinite(TRY_CAST(replace(fw_ascii(s), ',', '') AS DOUBLE))
         THEN TRY_CAST(replace(fw_ascii(s), ',', '') AS DOUBLE) END;

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
        -- An Excel serial of a real day up to 2958465 = 9999-12-31 (Excel's last); a read day
        -- outside the load's bounds is out of range, not unreadable (contract 1, clarified
        -- 2026-11-29: 109574 = 2199-12-31). Eight digits were read above as 20210315.
        WHEN regexp_full_match(t, '\d{1,7}(\.\d+)?') AND TRY_CAST(t AS DOUBLE) < 2958466 THEN
            TRY(CAST(DATE '1899-12-30' + CAST(floor(CAST(t AS DOUBLE)) AS INTEGER) AS DATE))
        ELSE NULL
    END;
CREATE OR REPLACE TEMP MACRO fw_date(s) AS
    CASE
        WHEN s[5] = '-' AND TRY_CAST(s AS DATE) IS NOT NULL THEN TRY_CAST(s AS DATE)
        ELSE fw_date_parts(fw_fold(s))
    END;

-- A classification cell: `2120101`, `2120101 行政运行`, `[2120101]行政运行`, `2120101-行政运行`.
CREATE OR REPLACE TEMP MACRO fw_code(s) AS
    CASE
        WHEN unicode(s) BETWEEN 48 AND 57 THEN regexp_extract(s, '^(\d+)', 1)  -- starts with an ASCII digit
        ELSE NULLIF(regexp_extract(fw_fold(s), '^\[?\s*(\d+)', 1), '')
    END;
CREATE OR REPLACE TEMP MACRO fw_code_name(s) AS
    CASE
        WHEN s IS NULL OR regexp_full_match(s, '\d*') THEN NULL
        WHEN regexp_matches(s, '^\d+[ \-]') THEN fw_trim_set(regexp_replace(s, '^\d+[\s\-—:：_]*', ''))
        -- the code may be full-width; the name after it is kept as written (not folded)
        ELSE NULLIF(fw_trim_set(regexp_replace(fw_trim_set(s),
                    '^[\[［]?[\s\x{3000}]*[0-9０-９]+[\s\x{3000}]*[\]］]?[\s\x{3000}\-－—:：_]*', '')), '')
    END;

-- A project cell: `code`, `code name` or `[code]name`. The code is folded (full-width
-- letters, digits, -_. and the ideographic space to ASCII) before it is cut out, so that a
-- code typed on a Chinese keyboard (４３３０…) is the same project, in every export: a
-- 涉密 project must not come back as a public project of its own.
CREATE OR REPLACE TEMP MACRO fw_code_fold(s) AS
    translate(CAST(s AS VARCHAR),
              '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－＿．　',
              '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_. ');
CREATE OR REPLACE TEMP MACRO fw_project_code_folded(t) AS
    CASE
        WHEN regexp_matches(t, '^[\[【]') THEN fw_text(regexp_extract(t, '^[\[【]([^\]】]+)[\]】]', 1))
        ELSE regexp_extract(t, '^(\S+)', 1)
    END;
CREATE OR REPLACE TEMP MACRO fw_project_code(s) AS
    CASE
        WHEN regexp_full_match(s, '[0-9A-Za-z\-_.]+') THEN s
        WHEN fw_text(s) IS NULL THEN NULL
        ELSE fw_project_code_folded(fw_code_fold(fw_trim(s)))
    END;
CREATE OR REPLACE TEMP MACRO fw_project_name(s) AS
    CASE
        WHEN s IS NULL OR regexp_full_match(s, '[0-9A-Za-z\-_.]*') THEN NULL
        WHEN regexp_matches(fw_trim(s), '^[\[【]') THEN fw_text(regexp_extract(fw_trim(s), '^[\[【][^\]】]+[\]】](.*)$', 1))
        ELSE fw_text(regexp_extract(fw_trim(s), '^[^\s\x{3000}]+[\s\x{3000}]+(.*)$', 1))  -- the name as written
    END;

-- A unit or other identifier code: ASCII-folded, spaces removed.
CREATE OR REPLACE TEMP MACRO fw_id(s) AS
    CASE
        WHEN regexp_full_match(s, '[0-9A-Za-z\-_.]+') THEN s
        ELSE NULLIF(regexp_replace(fw_fold(s), '\s', '', 'g'), '')
    END;

-- A unit code as the warehouse uses it, in paths too (marts/…/<unit_code>.parquet,
-- reports/<unit_code>/): letters, digits and - _ . after the first, at most 40, folded like
-- any code. Anything else in a unit code cell (a name, `../x`, a sentence) is no unit code:
-- NULL, so that the row is quarantined as missing_required with the cell in its raw values.
CREATE OR REPLACE TEMP MACRO fw_unit_code(s) AS
    CASE
        WHEN regexp_full_match(s, '[0-9A-Za-z][0-9A-Za-z\-_.]{0,39}') THEN s
        WHEN regexp_full_match(fw_id(s), '[0-9A-Za-z][0-9A-Za-z\-_.]{0,39}') THEN fw_id(s)
    END;
-- The unit code of a row: its cell, else (only when the cell is empty) the title line's.
CREATE OR REPLACE TEMP MACRO fw_row_unit_code(cell, title_code) AS
    CASE WHEN fw_text(cell) IS NULL THEN title_code ELSE fw_unit_code(cell) END;

-- Fund source (资金性质) to the five names of the contract; anything else kept as written.
CREATE OR REPLACE TEMP MACRO fw_fund_source_slow(t) AS
    CASE
        WHEN t = '' THEN NULL
        WHEN contains(t, '一般公共预算') THEN '一般公共预算'
        WHEN contains(t, '政府性基金') THEN '政府性基金预算'
        WHEN contains(t, '国有资本经营') THEN '国有资本经营预算'
        WHEN contains(t, '财政专户') THEN '财政专户管理资金'
        WHEN t IN ('单位资金', '单位自有资金', '自有资金', '其他资金', '事业收入', '经营收入', '其他收入') THEN '单位资金'
        ELSE t
    END;
CREATE OR REPLACE TEMP MACRO fw_fund_source(s) AS
    CASE
        WHEN s IN ('一般公共预算', '政府性基金预算', '国有资本经营预算', '财政专户管理资金', '单位资金') THEN s
        ELSE fw_fund_source_slow(fw_trim(s))
    END;

-- Footer rows of an export (合计, 小计, 本月合计, 本年累计 ...).
CREATE OR REPLACE TEMP MACRO fw_is_footer_text(s) AS
    regexp_full_match(regexp_replace(coalesce(s, ''), '[\s\x{3000}]', '', 'g'),
                      '(本月合计|本年累计|本期合计|本日合计|本月累计|本年合计|本期累计|合计|小计|总计|累计)[:：]?.*');
CREATE OR REPLACE TEMP MACRO fw_is_footer_word(s) AS
    regexp_replace(coalesce(s, ''), '[\s\x{3000}:：]', '', 'g')
        IN ('本月合计', '本年累计', '本期合计', '本日合计', '本月累计', '本年合计', '本期累计', '合计', '小计', '总计', '累计');

-- 是/否 cells.
CREATE OR REPLACE TEMP MACRO fw_bool(s) AS
    CASE
        WHEN fw_trim(s) IN ('是', 'Y', 'y', 'YES', 'Yes', 'yes', 'TRUE', 'True', 'true', '1', '√', '重点') THEN TRUE
        WHEN fw_trim(s) IN ('否', 'N', 'n', 'NO', 'No', 'no', 'FALSE', 'False', 'false', '0', '×', '非重点') THEN FALSE
        ELSE NULL
    END;
