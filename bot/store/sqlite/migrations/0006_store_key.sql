-- A random key drawn once per database, so that a search index derived from
-- this store (bot.search.derived) can tell it from any other file, such as
-- an older copy restored at the same path.
INSERT OR IGNORE INTO meta (key, value) VALUES ('store_key', random() & 9223372036854775807);
