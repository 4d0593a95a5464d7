/*  jwt: HS256 tokens of the contract (sub, role, iat, exp), signed and verified with the
    algorithm pinned. Owns a copy of the secret.  */
#ifndef COMMON_JWT_HS256_H
#define COMMON_JWT_HS256_H

#include <stddef.h>
#include <time.h>
#include "../proto/svc.h"

#define JWT_HS256_SECRET_MIN  32         //  bytes
#define JWT_HS256_TOKEN_MAX   4096       //  longer Authorization values are refused unread
#define JWT_LEEWAY_S          60         //  nbf and iat may be this far ahead of our clock

typedef struct jwt_hs256_s jwt_hs256_t;

typedef struct {
    char sub [UUID_STRLEN + 1];
    svc_role_t role;
    long exp;
} jwt_hs256_claims_t;

//  NULL when the secret is shorter than JWT_HS256_SECRET_MIN (logged).
jwt_hs256_t *jwt_hs256_new (const char *secret, size_t secret_len, long ttl_s);
void jwt_hs256_destroy (jwt_hs256_t **self_p);

//  A new token for sub/role issued at now. Caller frees. NULL on failure (logged).
char *jwt_hs256_sign (jwt_hs256_t *self, const char *sub, svc_role_t role, time_t now);

//  0 and claims filled when token is an HS256 token signed with our secret, unexpired
//  at now, not before its nbf nor issued after now (either within JWT_LEEWAY_S, when
//  present), with a uuid sub and role admin|agent; -1 otherwise (reason in why, a
//  constant).
int jwt_hs256_verify (jwt_hs256_t *self, const char *token, time_t now,
                     jwt_hs256_claims_t *claims, const char **why);

#endif
