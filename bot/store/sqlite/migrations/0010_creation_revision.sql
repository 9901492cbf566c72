-- Each entry names the revision that created it (entries.created_rev), so the
-- index that finds an entry's revisions holds only the later ones (updates,
-- retractions, restorations). An import of new entries then no longer puts
-- every revision into a tree keyed by entry id, which takes each one at a
-- random place: that cost ~2 s of the writer's 19 per 100,000 statements
-- at 1M (docs/performance.md, "Where the writer's time goes"). The history
-- of an entry is its creation, found through entries, and the rest through
-- the index. At 1M this step takes ~14 s once, at the first start.
ALTER TABLE entries ADD COLUMN created_rev INTEGER;
UPDATE entries SET created_rev = r.rev FROM revisions r
    WHERE r.entry_id = entries.id AND r.action = 'create';
CREATE INDEX revisions_entry_later ON revisions (entry_id, rev) WHERE action <> 'create';
DROP INDEX revisions_entry;
