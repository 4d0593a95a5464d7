-- Workers keep a user's role for a moment (workers/usercache.c) to spare a query per
-- request. A deleted user or a changed role must still take effect at once, so every such
-- change is announced to them: each worker LISTENs on ticketd_users and forgets the user
-- named ('*': every user) before it checks the next request's user.
CREATE FUNCTION users_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ticketd_users', CASE WHEN TG_OP = 'TRUNCATE' THEN '*' ELSE OLD.id::text END);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_announce_change AFTER UPDATE OF id, role OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_announce_change();
CREATE TRIGGER users_announce_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION users_announce_change();
