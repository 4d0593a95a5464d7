/*  Unit tests for common/jwt: HS256 sign/verify with the algorithm pinned.  */
#include "../../common/jwt.h"
#include "testing.h"

#include <jwt.h>
#include <openssl/hmac.h>

#define SECRET "0123456789abcdef0123456789abcdef-test"
#define SUB    "6f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6b"

static jwt_hs256_t *
s_jwt (void)
{
    return jwt_hs256_new (SECRET, strlen (SECRET), 3600);
}

static char *
s_b64url (const unsigned char *data, size_t len)
{
    static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc (len * 4 / 3 + 4);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = data [i] << 16 | (i + 1 < len ? data [i + 1] << 8 : 0) | (i + 2 < len ? data [i + 2] : 0);
        out [o++] = abc [(v >> 18) & 63];
        out [o++] = abc [(v >> 12) & 63];
        if (i + 1 < len) out [o++] = abc [(v >> 6) & 63];
        if (i + 2 < len) out [o++] = abc [v & 63];
    }
    out [o] = 0;
    return out;
}

//  Builds header.payload.signature by hand, HMAC-SHA256 with key (sig omitted when key NULL).
static char *
s_token (const char *header, const char *payload, const char *key)
{
    char *h = s_b64url ((const unsigned char *) header, strlen (header));
    char *p = s_b64url ((const unsigned char *) payload, strlen (payload));
    char signing [2048];
    snprintf (signing, sizeof signing, "%s.%s", h, p);
    char *s = NULL;
    if (key) {
        unsigned char mac [32];
        unsigned int maclen = 0;
        HMAC (EVP_sha256 (), key, (int) strlen (key), (unsigned char *) signing, strlen (signing), mac, &maclen);
        s = s_b64url (mac, maclen);
    }
    char *token = malloc (4096);
    snprintf (token, 4096, "%s.%s", signing, s ? s : "");
    free (h);
    free (p);
    free (s);
    return token;
}

static int
s_verify_payload (const char *header, const char *payload, const char *key)
{
    jwt_hs256_t *jwt = s_jwt ();
    char *token = s_token (header, payload, key);
    jwt_hs256_claims_t claims;
    int rc = jwt_hs256_verify (jwt, token, time (NULL), &claims, NULL);
    free (token);
    jwt_hs256_destroy (&jwt);
    return rc;
}

//  A payload of the fields given (JSON members, without braces) plus an exp a minute from
//  now: a token of it would be valid but for what the fields say. Valid until next call.
static const char *
s_claims (const char *fields)
{
    static char payload [256];
    snprintf (payload, sizeof payload, "{%s%s\"exp\":%ld}", fields, *fields ? "," : "",
              (long) time (NULL) + 60);
    return payload;
}

#define S_SUB "\"sub\":\"" SUB "\""

TEST (test_new_refuses_a_short_secret)
{
    jwt_hs256_t *jwt = jwt_hs256_new ("short", 5, 60);
    CHECK (jwt == NULL);
}

TEST (test_signed_token_verifies_with_its_claims)
{
    jwt_hs256_t *jwt = s_jwt ();
    time_t now = time (NULL);
    char *token = jwt_hs256_sign (jwt, SUB, SVC_ROLE_ADMIN, now);
    CHECK (token != NULL);
    jwt_hs256_claims_t claims;
    const char *why = NULL;
    int rc = jwt_hs256_verify (jwt, token, now, &claims, &why);
    free (token);
    jwt_hs256_destroy (&jwt);
    CHECK_INT (rc, 0);
    CHECK_STR (claims.sub, SUB);
    CHECK_INT (claims.role, SVC_ROLE_ADMIN);
    CHECK_INT (claims.exp, now + 3600);
}

TEST (test_hand_built_hs256_token_verifies)
{
    const char *payload = s_claims (S_SUB ",\"role\":\"agent\",\"iat\":1");
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, SECRET), 0);
}

TEST (test_alg_none_token_is_rejected)
{
    const char *payload = s_claims (S_SUB ",\"role\":\"admin\"");
    CHECK_INT (s_verify_payload ("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, NULL), -1);
    //  Also with a signature part attached, which a lax verifier would ignore.
    CHECK_INT (s_verify_payload ("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, SECRET), -1);
}

TEST (test_hs256_spelled_otherwise_or_with_a_critical_extension_is_rejected)
{
    //  Signed with the secret, so only the header is wrong: libjwt reads "alg" ignoring
    //  case, and RFC 7515 has a verifier refuse a "crit" it does not know.
    const char *payload = s_claims (S_SUB ",\"role\":\"admin\"");
    CHECK_INT (s_verify_payload ("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", payload, SECRET), -1);
    CHECK_INT (s_verify_payload ("{\"alg\":\"Hs256\",\"typ\":\"JWT\"}", payload, SECRET), -1);
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\",\"crit\":[\"x\"],\"x\":1}", payload,
                                 SECRET), -1);
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\",\"crit\":[]}", payload, SECRET), -1);
}

TEST (test_a_member_named_twice_is_rejected)
{
    //  Genuinely signed: libjwt would take the last "alg" or "sub", another reader the
    //  first. The same token without the repeat verifies.
    const char *payload = s_claims (S_SUB ",\"role\":\"agent\"");
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, SECRET), 0);
    CHECK_INT (s_verify_payload ("{\"alg\":\"none\",\"alg\":\"HS256\"}", payload, SECRET), -1);
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", payload, SECRET), -1);
    const char *twice = s_claims ("\"sub\":\"" SUB "\",\"role\":\"agent\",\"role\":\"admin\"");
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", twice, SECRET), -1);
}

TEST (test_other_algorithms_are_rejected)
{
    const char *payload = s_claims (S_SUB ",\"role\":\"admin\"");
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", payload, SECRET), -1);
    CHECK_INT (s_verify_payload ("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload, SECRET), -1);
}

TEST (test_bad_signature_is_rejected)
{
    const char *payload = s_claims (S_SUB ",\"role\":\"admin\"");
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\"}", payload, "another-secret-of-enough-length-0123456"), -1);
    //  And a flipped byte in a good token.
    jwt_hs256_t *jwt = s_jwt ();
    char *token = jwt_hs256_sign (jwt, SUB, SVC_ROLE_AGENT, time (NULL));
    size_t len = strlen (token);
    token [len - 2] = token [len - 2] == 'A' ? 'B' : 'A';
    jwt_hs256_claims_t claims;
    int rc = jwt_hs256_verify (jwt, token, time (NULL), &claims, NULL);
    free (token);
    jwt_hs256_destroy (&jwt);
    CHECK_INT (rc, -1);
}

TEST (test_expired_token_is_rejected)
{
    jwt_hs256_t *jwt = s_jwt ();
    time_t then = time (NULL) - 7200;
    char *token = jwt_hs256_sign (jwt, SUB, SVC_ROLE_AGENT, then);
    jwt_hs256_claims_t claims;
    const char *why = NULL;
    int rc = jwt_hs256_verify (jwt, token, time (NULL), &claims, &why);
    free (token);
    jwt_hs256_destroy (&jwt);
    CHECK_INT (rc, -1);
    CHECK_STR (why, "expired");
}

//  A claim of the given name at now + ahead seconds; "why" of the verdict.
static const char *
s_time_claim_verdict (const char *name, long ahead)
{
    char fields [160];
    snprintf (fields, sizeof fields, S_SUB ",\"role\":\"admin\",\"%s\":%ld", name,
              (long) time (NULL) + ahead);
    jwt_hs256_t *jwt = s_jwt ();
    char *token = s_token ("{\"alg\":\"HS256\"}", s_claims (fields), SECRET);
    jwt_hs256_claims_t claims;
    const char *why = NULL;
    if (jwt_hs256_verify (jwt, token, time (NULL), &claims, &why) == 0)
        why = "accepted";
    free (token);
    jwt_hs256_destroy (&jwt);
    return why;
}

TEST (test_nbf_and_iat_in_the_future_are_rejected_beyond_the_leeway)
{
    CHECK_STR (s_time_claim_verdict ("nbf", 600), "not_yet_valid");
    CHECK_STR (s_time_claim_verdict ("iat", 600), "issued_in_the_future");
    CHECK_STR (s_time_claim_verdict ("nbf", JWT_LEEWAY_S / 2), "accepted");
    CHECK_STR (s_time_claim_verdict ("iat", -30), "accepted");
    CHECK_STR (s_time_claim_verdict ("nbf", -600), "accepted");
}

TEST (test_non_numeric_time_claims_are_rejected)
{
    const char *payload = s_claims (S_SUB ",\"role\":\"admin\",\"nbf\":\"soon\"");
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\"}", payload, SECRET), -1);
}

TEST (test_token_without_exp_is_rejected)
{
    char payload [256];
    snprintf (payload, sizeof payload, "{\"sub\":\"%s\",\"role\":\"admin\"}", SUB);
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\"}", payload, SECRET), -1);
}

TEST (test_missing_or_non_uuid_sub_is_rejected)
{
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\"}", s_claims ("\"role\":\"admin\""), SECRET), -1);
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\"}", s_claims ("\"sub\":\"admin\",\"role\":\"admin\""),
                                 SECRET), -1);
}

TEST (test_role_other_than_admin_or_agent_is_rejected)
{
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\"}", s_claims (S_SUB ",\"role\":\"root\""), SECRET), -1);
    CHECK_INT (s_verify_payload ("{\"alg\":\"HS256\"}", s_claims (S_SUB), SECRET), -1);
}

TEST (test_garbage_strings_are_rejected)
{
    jwt_hs256_t *jwt = s_jwt ();
    const char *garbage [] = { "", ".", "..", "a.b.c", "abc", "a.b.c.d", "eyJ.eyJ.", "%%%.$$$.***",
                               "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln" };
    jwt_hs256_claims_t claims;
    for (size_t i = 0; i < sizeof garbage / sizeof garbage [0]; i++) {
        if (jwt_hs256_verify (jwt, garbage [i], time (NULL), &claims, NULL) != -1) {
            fprintf (stderr, "  accepted garbage '%s'\n", garbage [i]);
            jwt_hs256_destroy (&jwt);
            CHECK (0);
        }
    }
    CHECK_INT (jwt_hs256_verify (jwt, NULL, time (NULL), &claims, NULL), -1);
    jwt_hs256_destroy (&jwt);
}

TEST (test_cached_token_still_expires_and_tampering_misses_the_cache)
{
    jwt_hs256_t *jwt = s_jwt ();
    time_t now = time (NULL);
    char *token = jwt_hs256_sign (jwt, SUB, SVC_ROLE_ADMIN, now);
    jwt_hs256_claims_t claims;
    CHECK_INT (jwt_hs256_verify (jwt, token, now, &claims, NULL), 0);
    CHECK_INT (jwt_hs256_verify (jwt, token, now, &claims, NULL), 0);     //  from the cache
    CHECK_STR (claims.sub, SUB);
    const char *why = NULL;
    int late = jwt_hs256_verify (jwt, token, now + 3601, &claims, &why);
    size_t len = strlen (token);
    token [len - 3] = token [len - 3] == 'A' ? 'B' : 'A';
    int tampered = jwt_hs256_verify (jwt, token, now, &claims, NULL);
    free (token);
    jwt_hs256_destroy (&jwt);
    CHECK_INT (late, -1);
    CHECK_STR (why, "expired");
    CHECK_INT (tampered, -1);
}

TEST_MAIN ("jwt",
    T (test_cached_token_still_expires_and_tampering_misses_the_cache),
    T (test_new_refuses_a_short_secret),
    T (test_signed_token_verifies_with_its_claims),
    T (test_hand_built_hs256_token_verifies),
    T (test_alg_none_token_is_rejected),
    T (test_hs256_spelled_otherwise_or_with_a_critical_extension_is_rejected),
    T (test_a_member_named_twice_is_rejected),
    T (test_other_algorithms_are_rejected),
    T (test_bad_signature_is_rejected),
    T (test_expired_token_is_rejected),
    T (test_token_without_exp_is_rejected),
    T (test_nbf_and_iat_in_the_future_are_rejected_beyond_the_leeway),
    T (test_non_numeric_time_claims_are_rejected),
    T (test_missing_or_non_uuid_sub_is_rejected),
    T (test_role_other_than_admin_or_agent_is_rejected),
    T (test_garbage_strings_are_rejected))
