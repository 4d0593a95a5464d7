-- The list's text search (q) covers the requester's e-mail address too: a support agent
-- searches by who wrote as often as by what was written. A trigram index of its own, over
-- live tickets as 0004's is, lets the planner OR the two (BitmapOr) instead of scanning.
CREATE INDEX tickets_requester_text_idx ON tickets USING gin (requester_email gin_trgm_ops)
    WHERE deleted_at IS NULL;
