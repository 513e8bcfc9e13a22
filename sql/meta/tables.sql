-- Bookkeeping of the landing folder: what was read, from where, and which files count.

-- One row per landing file seen.
CREATE TABLE IF NOT EXISTS meta.files (
    file_id      VARCHAR PRIMARY KEY,   -- hash of (path, content): the same bytes at the same path
    source_file  VARCHAR NOT NULL,      -- path relative to the landing folder, '/'-separated
    file_sha256  VARCHAR NOT NULL,
    size_bytes   BIGINT,
    mtime_ns     BIGINT,                -- decides which of two files is the newer
    status       VARCHAR NOT NULL,      -- loaded | unreadable
    reason       VARCHAR,               -- why a file could not be read
    notes        VARCHAR,               -- e.g. sheets skipped, with why
    loaded_at    TIMESTAMP NOT NULL
);

-- One row per table read from a file: the file itself for CSV, each recognised sheet of a workbook.
CREATE SEQUENCE IF NOT EXISTS meta.source_keys;
CREATE TABLE IF NOT EXISTS meta.sources (
    source_id          VARCHAR PRIMARY KEY,
    source_key         INTEGER NOT NULL UNIQUE,  -- the key raw.*__rows and staging.*__rows carry
    file_id            VARCHAR NOT NULL,
    source_file        VARCHAR NOT NULL,
    sheet              VARCHAR,
    kind               VARCHAR NOT NULL,
    header_row         INTEGER NOT NULL,   -- 1-based physical row of the header
    headers            VARCHAR NOT NULL,   -- JSON: {canonical column: header text as written}
    extra_headers      VARCHAR,            -- JSON: header texts of columns kept in raw.extra
    scale              DECIMAL(18, 2) NOT NULL,  -- its amount-unit line's factor: 10000 for a file in 万元
    scaled_columns     VARCHAR,            -- JSON {column: factor}: amount columns whose header names a unit (金额（千元）)
    encoding           VARCHAR,
    title_unit_code    VARCHAR,
    title_unit_name    VARCHAR,
    title_period_start DATE,
    title_period_end   DATE,
    title_fiscal_year  INTEGER,
    rows_raw           BIGINT NOT NULL,    -- every non-empty row below the header
    rows_blank         BIGINT NOT NULL,    -- empty rows below the header (not data)
    rows_footer        BIGINT NOT NULL,    -- 合计/小计/本月合计/本年累计 rows and repeated header rows
    loaded_at          TIMESTAMP NOT NULL,
    staged             BOOLEAN NOT NULL    -- typed into staging (a load that died may leave FALSE)
);

-- What each source contributes, per unit and fiscal year: a file's identity is its kind,
-- unit, fiscal year and period (contract section 1); `status` says whether it counts.
CREATE TABLE IF NOT EXISTS meta.slices (
    source_id     VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,
    unit_code     VARCHAR NOT NULL,
    fiscal_year   INTEGER NOT NULL,
    period_start  DATE NOT NULL,
    period_end    DATE NOT NULL,
    rows_staged   BIGINT NOT NULL,
    status        VARCHAR NOT NULL,   -- active | replaced
    replaced_by   VARCHAR,            -- source_file of the newer file that replaces it
    overlaps_with VARCHAR,            -- source_files whose periods overlap it without containing it
    PRIMARY KEY (source_id, unit_code, fiscal_year)
);

-- One row per load: what it did.
CREATE TABLE IF NOT EXISTS meta.loads (
    load_id        VARCHAR PRIMARY KEY,
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP,
    landing_dir    VARCHAR,
    files_seen     BIGINT,
    files_new      BIGINT,
    files_changed  BIGINT,
    files_removed  BIGINT,
    files_unreadable BIGINT,
    scope          VARCHAR,            -- JSON list of [unit_code, fiscal_year] rebuilt
    summary        VARCHAR             -- JSON of the printed summary
);
