-- The answers of completed mutating requests, by request id, so that a request the broker
-- hands to a second worker (its first worker died after COMMIT, before replying: same rid,
-- proto/svc.h) is answered as the first run answered instead of being run again. A row is
-- written in the same transaction as the request's own effect (workers/replay.c), so it
-- exists exactly when the effect committed. Today jobs.cancel records its 200; other
-- mutating services are to follow (docs/ARCHITECTURE.md).
--
-- The rid is the edge's own request id (128 random bits, never a client's choice), but any
-- MDP client may send a rid of its choosing, so a row answers only the same user, service
-- and payload (request_hash: SHA-256 of the payload, workers/replay.c), and the first
-- recording of a (rid, service) wins.
-- Rows older than 24 hours are deleted by the workers' periodic sweep (created_at index):
-- the broker re-delivers within BROKER_REQUEST_TTL_MS, seconds, so a day is ample.
CREATE TABLE request_results (
    rid          text        NOT NULL CHECK (length(rid) BETWEEN 1 AND 64),
    service      text        NOT NULL,
    user_id      uuid        NOT NULL,
    request_hash text        NOT NULL,
    status       int         NOT NULL CHECK (status BETWEEN 100 AND 599),
    body         text,       -- exactly the payload sent; NULL for an empty one (204)
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rid, service)
);
CREATE INDEX request_results_created_idx ON request_results (created_at);
