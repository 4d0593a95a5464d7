-- Users and tickets. Applied once, in one transaction, by sql/migrate.sh.
CREATE EXTENSION IF NOT EXISTS pgcrypto;   -- crypt()/gen_salt() for seeding password hashes
CREATE EXTENSION IF NOT EXISTS pg_trgm;    -- trigram index behind ?q= text search

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role          text NOT NULL CHECK (role IN ('admin', 'agent')),
    password_hash text NOT NULL,            -- crypt(3) string: $2a$/$2b$ bcrypt or $y$ yescrypt
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE tickets (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
    priority        text NOT NULL DEFAULT 'normal'
                    CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    requester_email text NOT NULL CHECK (length(requester_email) BETWEEN 3 AND 254),
    assignee_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    version         integer NOT NULL DEFAULT 1
);

-- The default listing: live tickets, newest first (keyset-friendly with id as tiebreak).
CREATE INDEX tickets_live_created_idx ON tickets (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX tickets_status_idx       ON tickets (status, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX tickets_priority_idx     ON tickets (priority, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX tickets_assignee_idx     ON tickets (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_deleted_idx      ON tickets (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX tickets_text_idx         ON tickets USING gin ((subject || ' ' || description) gin_trgm_ops);
