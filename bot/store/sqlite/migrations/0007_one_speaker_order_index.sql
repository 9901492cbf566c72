-- One index gives a speaker's statements in both orders: "/timeline" reads
-- statement_speaker_chrono forwards, "/quote <speaker>" backwards, now that
-- the newest-first listing breaks ties by id descending too (the exact
-- reverse of the oldest-first one). Every index is work on every import: at
-- 1M statements, dropping this one took a 100,000-statement import from 49 s
-- to 41 s (docs/performance.md).
DROP INDEX statement_speaker_recent;
