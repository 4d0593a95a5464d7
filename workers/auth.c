/*  auth: password login with crypt_r(3) (bcrypt $2a$/$2b$, yescrypt...), auth.me and
    the user check. An unknown email costs the same hashing as a known one.  */
#include "auth.h"
#include "check.h"
#include "../common/log.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_PASSWORD_MAX   1024        //  bounds the hashing work one request may ask for
#define AUTH_DUMMY_COST     10          //  the seed's gen_salt('bf', 10)

//  The worker is single-threaded: one crypt_data (about 32 KiB) serves every request.
static struct crypt_data *s_crypt;
static char s_dummy_hash [CRYPT_OUTPUT_SIZE];

static const db_stmt_t s_stmts [] = {
    { "auth_login",
      "SELECT id, email, name, role, password_hash FROM users WHERE lower(email) = lower($1)", true },
    { "auth_user", "SELECT id, email, name, role FROM users WHERE id = $1::uuid", true },
    { "auth_role", "SELECT role FROM users WHERE id = $1::uuid", true },
    //  The assignee picker's search: name or e-mail containing q, case-insensitively.
    { "users_list",
      "SELECT id, email, name, role, count(*) OVER () FROM users"
      " WHERE $1::text IS NULL OR strpos(lower(name), lower($1)) > 0"
      " OR strpos(lower(email), lower($1)) > 0 ORDER BY lower(name), id LIMIT $2::int", true },
};

bool
auth_equal_ct (const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char) (a [i] ^ b [i]);
    return diff == 0;
}

static json_t *
s_user_json (PGresult *res, int row)
{
    return json_pack ("{s:s, s:s, s:s, s:s}",
                      "id", PQgetvalue (res, row, 0), "email", PQgetvalue (res, row, 1),
                      "name", PQgetvalue (res, row, 2), "role", PQgetvalue (res, row, 3));
}

int
auth_user_role (db_t *db, const char *user, svc_role_t *role)
{
    const char *params [] = { user };
    PGresult *res = db_exec (db, "auth_role", 1, params);
    if (!res)
        return -1;
    int rc = -1;
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        log_error ("event=db_error stmt=auth_role sqlstate=%s", db_sqlstate (res));
    else
    if (PQntuples (res) == 0)
        rc = 1;
    else {
        *role = svc_role_parse (PQgetvalue (res, 0, 0));
        rc = *role == SVC_ROLE_NONE ? 1 : 0;    //  a role we do not know grants nothing
    }
    PQclear (res);
    return rc;
}

static void
s_login (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    const char *email, *password;
    int bad = check_string (call->payload, "email", true, VOCAB_EMAIL_MIN, VOCAB_EMAIL_MAX, details, &email);
    bad |= check_string (call->payload, "password", true, 1, AUTH_PASSWORD_MAX, details, &password);
    if (bad) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);

    const char *params [] = { email };
    PGresult *res = db_exec (call->db, "auth_login", 1, params);
    if (!res) {
        reply_unavailable (reply);
        return;
    }
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("event=db_error rid=%s stmt=auth_login sqlstate=%s", call->rid, db_sqlstate (res));
        reply_internal (reply);
        PQclear (res);
        return;
    }
    bool found = PQntuples (res) == 1;
    const char *stored = found ? PQgetvalue (res, 0, 4) : s_dummy_hash;
    const char *computed = crypt_r (password, stored, s_crypt);
    //  A failed crypt returns NULL or a "*0"-style token, which never equals a hash.
    bool ok = computed && computed [0] != '*' && auth_equal_ct (computed, stored) && found;
    if (ok)
        reply_json (reply, 200, json_pack ("{s:o}", "user", s_user_json (res, 0)));
    else
        reply_error (reply, 401, "invalid_credentials", "The email or password is wrong.", NULL);
    PQclear (res);
}

static void
s_me (svc_call_t *call, reply_t *reply)
{
    const char *params [] = { call->user };
    PGresult *res = db_exec (call->db, "auth_user", 1, params);
    if (!res) {
        reply_unavailable (reply);
        return;
    }
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("event=db_error rid=%s stmt=auth_user sqlstate=%s", call->rid, db_sqlstate (res));
        reply_internal (reply);
    }
    else
    if (PQntuples (res) == 0)
        reply_error (reply, 401, "invalid_token", "The token's user no longer exists.", NULL);
    else
        reply_json (reply, 200, s_user_json (res, 0));
    PQclear (res);
}

static int
s_init (db_t *db)
{
    if (!s_crypt) {
        s_crypt = (struct crypt_data *) calloc (1, sizeof (struct crypt_data));
        if (!s_crypt)
            return -1;
        //  A real hash of a random password, with the seed's cost, so an unknown email
        //  spends the same time in crypt_r as a known one.
        char salt [CRYPT_GENSALT_OUTPUT_SIZE];
        const char *hash = NULL;
        if (crypt_gensalt_rn ("$2b$", AUTH_DUMMY_COST, NULL, 0, salt, sizeof salt))
            hash = crypt_r ("not-a-password-anyone-has", salt, s_crypt);
        if (!hash || hash [0] == '*') {
            log_error ("event=crypt_unavailable msg=\"libcrypt cannot make a bcrypt hash\"");
            return -1;
        }
        snprintf (s_dummy_hash, sizeof s_dummy_hash, "%s", hash);
    }
    return 0;
}

//  users.list: who may be assigned a ticket, for anyone signed in.
static void
s_users (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    const char *q = NULL;
    long limit = VOCAB_USERS_LIMIT_DEFAULT;
    int bad = check_string (call->payload, "q", false, 0, VOCAB_Q_MAX, details, &q);
    bad |= check_int (call->payload, "limit", false, 1, VOCAB_USERS_LIMIT_MAX, details, &limit, NULL);
    if (bad) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);
    char lim [24];
    snprintf (lim, sizeof lim, "%ld", limit);
    const char *params [] = { q && *q ? q : NULL, lim };
    PGresult *res = db_exec (call->db, "users_list", 2, params);
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK) {
        res ? reply_internal (reply) : reply_unavailable (reply);
        PQclear (res);
        return;
    }
    json_t *data = json_array ();
    for (int i = 0; i < PQntuples (res); i++)
        json_array_append_new (data, s_user_json (res, i));
    long long total = PQntuples (res) ? strtoll (PQgetvalue (res, 0, 4), NULL, 10) : 0;
    PQclear (res);
    reply_json (reply, 200, json_pack ("{s:o, s:I}", "data", data, "total", (json_int_t) total));
}

static const svc_entry_t s_entries [] = {
    { SVC_AUTH_LOGIN, s_login, false, false, NULL, NULL, false },
    { SVC_AUTH_ME,    s_me,    true, false, NULL, NULL, false },
    { SVC_USERS_LIST, s_users, true, false, NULL, NULL, false },
};

const svc_family_t auth_family = {
    "auth", s_entries, sizeof s_entries / sizeof s_entries [0],
    s_stmts, sizeof s_stmts / sizeof s_stmts [0], s_init, NULL
};
