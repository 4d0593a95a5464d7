-- The trigram index behind ?q= holds live tickets only. A soft delete writes a new version of
-- its row; with the index over every row, that version got a full set of trigram entries
-- (dozens per ticket) although nothing searches deleted tickets by default. Measured on
-- 100,000 tickets (docs/BENCHMARKS.md, change 8): an UPDATE soft-deleting 20,000 of them
-- 851 ms -> 264 ms, its WAL 35 MB -> 11 MB; a chunk's commit waits for less WAL to flush.
-- The other indexes a delete touches stay as they were: the live-only ones already skip the
-- new version, and the primary key, tickets_deleted_idx and the assignee index are one
-- small entry each. The cost falls on admins' ?q= with deleted=include|only: the deleted
-- tickets are read through tickets_deleted_idx and filtered (about 1.6 us a row) or scanned.
--
-- Built before the old one is dropped: the build (seconds at a million tickets) holds a lock
-- that blocks writes to tickets but not reads, and the drop's exclusive lock comes last, for
-- the instant left before commit, should `./manage.sh migrate` run while the system is up.
CREATE INDEX tickets_text_live_idx ON tickets
    USING gin ((subject || ' ' || description) gin_trgm_ops) WHERE deleted_at IS NULL;
DROP INDEX tickets_text_idx;
ALTER INDEX tickets_text_live_idx RENAME TO tickets_text_idx;
