-- The date index keys on the date alone (SQLite adds each row's rowid). The
-- id added nothing: every query that reads this index orders the statements
-- of one day itself, by date_end and then id, in a temporary B-tree, and the
-- query plans are the same without it. Each entry is ~20 bytes instead of
-- ~60: at 900k statements the index is ~17 MB instead of ~51 (the file
-- 1,830 MB instead of 1,862). A 100,000-statement import puts every
-- statement at a random place in this tree; its statement rows went in
-- in 3.2 s instead of 3.8-4.7 (the SQL alone; docs/performance.md, "A
-- slimmer date index"). At 900k this step took 2.0-2.4 s, once, at the
-- first start.
DROP INDEX statement_date;
CREATE INDEX statement_date ON statement_index (date_start);
