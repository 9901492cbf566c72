-- Indexes that give a speaker's statements in the exact orders the store asks
-- for, so that "/quote <speaker>" (newest first) and "/timeline <speaker>"
-- (oldest first) read the first page straight from the index instead of
-- sorting every statement of the speaker (110,000 of them for the busiest
-- speaker of the 1M-statement benchmark; see docs/performance.md).
-- The ascending one also covers every lookup the old (speaker_id,
-- date_start, id) index served, so that one goes: one index less to write.
CREATE INDEX statement_speaker_chrono
    ON statement_index (speaker_id, date_start, date_end, id);
CREATE INDEX statement_speaker_recent
    ON statement_index (speaker_id, date_start DESC, date_end DESC, id);
DROP INDEX statement_speaker_date;
