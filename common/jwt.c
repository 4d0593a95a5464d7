/*  jwt: HS256 sign/verify over libjwt 1.10. libjwt decides the algorithm from the token
    header, so after jwt_decode we insist on HS256 ourselves: "none" (which libjwt
    accepts without checking any signature) and every other algorithm are refused.  */
#include "jwt.h"
#include "../common/log.h"

#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdint.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>

//  Verified tokens, direct-mapped by hash: a hit needs the exact token text, and its exp
//  is checked again on every hit. Saves the HMAC + two JSON parses (~10 us) per request.
#define JWT_CACHE_SLOTS      1024
#define JWT_CACHE_TOKEN_MAX  512       //  longer tokens are verified every time

typedef struct {
    char token [JWT_CACHE_TOKEN_MAX + 1];
    jwt_hs256_claims_t claims;
} s_cache_entry_t;

struct jwt_hs256_s {
    unsigned char *key;
    size_t key_len;
    long ttl_s;
    s_cache_entry_t *cache;             //  JWT_CACHE_SLOTS entries
};

static uint64_t
s_hash (const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;        //  FNV-1a
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) s [i]) * 1099511628211ULL;
    return h;
}

jwt_hs256_t *
jwt_hs256_new (const char *secret, size_t secret_len, long ttl_s)
{
    if (!secret || secret_len < JWT_HS256_SECRET_MIN) {
        log_error ("event=bad_config var=JWT_SECRET msg=\"must be at least %d bytes\"",
                   JWT_HS256_SECRET_MIN);
        return NULL;
    }
    jwt_hs256_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->key = malloc (secret_len);
    if (!self->key) {
        free (self);
        return NULL;
    }
    self->cache = calloc (JWT_CACHE_SLOTS, sizeof (s_cache_entry_t));
    if (!self->cache) {
        free (self->key);
        free (self);
        return NULL;
    }
    memcpy (self->key, secret, secret_len);
    self->key_len = secret_len;
    self->ttl_s = ttl_s;
    return self;
}

void
jwt_hs256_destroy (jwt_hs256_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jwt_hs256_t *self = *self_p;
    memset (self->key, 0, self->key_len);
    free (self->key);
    free (self->cache);
    free (self);
    *self_p = NULL;
}

char *
jwt_hs256_sign (jwt_hs256_t *self, const char *sub, svc_role_t role, time_t now)
{
    jwt_t *jwt = NULL;
    char *token = NULL;
    if (jwt_new (&jwt))
        goto done;
    if (jwt_set_alg (jwt, JWT_ALG_HS256, self->key, (int) self->key_len)
    ||  jwt_add_grant (jwt, "sub", sub)
    ||  jwt_add_grant (jwt, "role", svc_role_name (role))
    ||  jwt_add_grant_int (jwt, "iat", (long) now)
    ||  jwt_add_grant_int (jwt, "exp", (long) now + self->ttl_s))
        goto done;
    token = jwt_encode_str (jwt);
done:
    if (!token)
        log_error ("event=jwt_sign_failed sub=%s", sub);
    jwt_free (jwt);
    return token;
}

//  Three base64url parts, the last not empty: anything else is refused before libjwt
//  parses it. NULL when the shape holds, else why not.
static const char *
s_shape (const char *token)
{
    int dots = 0;
    for (const char *p = token; *p; p++) {
        if (*p == '.')
            dots++;
        else
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
           || *p == '-' || *p == '_'))
            return "malformed";
    }
    if (dots != 2)
        return "malformed";
    return token [strlen (token) - 1] == '.' ? "unsigned" : NULL;
}

//  The base64url value of c, or -1 for a character outside the alphabet.
static int
s_b64url_value (char c)
{
    if (c >= 'A' && c <= 'Z')   return c - 'A';
    if (c >= 'a' && c <= 'z')   return c - 'a' + 26;
    if (c >= '0' && c <= '9')   return c - '0' + 52;
    if (c == '-')               return 62;
    if (c == '_')               return 63;
    return -1;
}

//  Whether the part of len characters at part decodes to a JSON object that names no
//  member twice. libjwt's parser keeps the last of two "alg" or "sub" members, another
//  reader may keep the first: RFC 7515 4 and RFC 7519 4 have such a token refused.
static bool
s_part_unique (const char *part, size_t len)
{
    char text [JWT_HS256_TOKEN_MAX];            //  decoded, 3/4 of len < the token's bound
    size_t n = 0;
    uint32_t bits = 0;
    int have = 0;
    for (size_t i = 0; i < len; i++) {
        int v = s_b64url_value (part [i]);
        if (v < 0 || n == sizeof text)
            return false;
        bits = (bits << 6) | (uint32_t) v;
        have += 6;
        if (have >= 8) {
            have -= 8;
            text [n++] = (char) ((bits >> have) & 0xff);
        }
    }
    json_t *root = json_loadb (text, n, JSON_REJECT_DUPLICATES, NULL);
    bool unique = json_is_object (root);
    json_decref (root);
    return unique;
}

//  NULL when the claim is absent or at most JWT_LEEWAY_S after now; else why it fails.
static const char *
s_time_claim (jwt_t *jwt, const char *name, time_t now, const char *future)
{
    //  libjwt reads a string claim as 0 without a word: look at its JSON type first.
    char *text = jwt_get_grants_json (jwt, name);
    if (!text)
        return NULL;
    json_t *value = json_loads (text, JSON_DECODE_ANY, NULL);
    free (text);
    const char *why = NULL;
    if (!json_is_integer (value) || json_integer_value (value) < 0)
        why = "bad_time_claim";
    else
    if (json_integer_value (value) > (json_int_t) now + JWT_LEEWAY_S)
        why = future;
    json_decref (value);
    return why;
}

int
jwt_hs256_verify (jwt_hs256_t *self, const char *token, time_t now,
                 jwt_hs256_claims_t *claims, const char **why)
{
    const char *reason = NULL;
    jwt_t *jwt = NULL;
    s_cache_entry_t *slot = NULL;
    memset (claims, 0, sizeof *claims);
    size_t token_len = token ? strlen (token) : 0;
    if (!token_len || token_len > JWT_HS256_TOKEN_MAX) {
        reason = "malformed";
        goto done;
    }
    if (token_len <= JWT_CACHE_TOKEN_MAX) {
        slot = &self->cache [s_hash (token, token_len) % JWT_CACHE_SLOTS];
        if (!strcmp (slot->token, token)) {
            if (slot->claims.exp <= (long) now)
                reason = "expired";
            else
                *claims = slot->claims;
            goto done;
        }
    }
    if ((reason = s_shape (token)))
        goto done;
    if (jwt_decode (&jwt, token, self->key, (int) self->key_len) || !jwt) {
        reason = "bad_signature_or_format";
        goto done;
    }
    //  The algorithm exactly as RFC 7518 spells it (libjwt reads it ignoring case), and no
    //  "crit" header: RFC 7515 has a verifier that knows no extension refuse any it names.
    const char *alg = jwt_get_header (jwt, "alg");
    char *crit = jwt_get_headers_json (jwt, "crit");
    bool critical = crit != NULL;
    free (crit);
    if (jwt_get_alg (jwt) != JWT_ALG_HS256 || !alg || strcmp (alg, "HS256") || critical) {
        reason = "algorithm_not_allowed";
        goto done;
    }
    //  Genuine, and now read as libjwt read it only if no member comes twice (s_shape has
    //  found exactly two dots).
    const char *dot1 = strchr (token, '.');
    const char *dot2 = strchr (dot1 + 1, '.');
    if (!s_part_unique (token, (size_t) (dot1 - token))
    ||  !s_part_unique (dot1 + 1, (size_t) (dot2 - dot1 - 1))) {
        reason = "duplicate_member";
        goto done;
    }
    errno = 0;
    long exp = jwt_get_grant_int (jwt, "exp");
    if (errno || exp <= 0) {
        reason = "missing_exp";
        goto done;
    }
    if (exp <= (long) now) {
        reason = "expired";
        goto done;
    }
    //  Optional, but when there they hold: a token is not good before its nbf, and one
    //  issued in the future was made on a clock we do not trust. JWT_LEEWAY_S allows for
    //  clocks a little apart.
    if ((reason = s_time_claim (jwt, "nbf", now, "not_yet_valid"))
    ||  (reason = s_time_claim (jwt, "iat", now, "issued_in_the_future")))
        goto done;
    const char *sub = jwt_get_grant (jwt, "sub");
    if (!sub || !uuid_valid (sub)) {
        reason = "bad_sub";
        goto done;
    }
    svc_role_t role = svc_role_parse (jwt_get_grant (jwt, "role"));
    if (role == SVC_ROLE_NONE) {
        reason = "bad_role";
        goto done;
    }
    memcpy (claims->sub, sub, UUID_STRLEN + 1);
    claims->role = role;
    claims->exp = exp;
    if (slot) {
        memcpy (slot->token, token, token_len + 1);
        slot->claims = *claims;
    }
done:
    jwt_free (jwt);
    if (why)
        *why = reason;
    return reason ? -1 : 0;
}
