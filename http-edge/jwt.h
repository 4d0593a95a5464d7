/*  jwt: HS256 tokens of the contract (sub, role, iat, exp), signed and verified with the
    algorithm pinned. Owns a copy of the secret.  */
#ifndef EDGE_JWT_H
#define EDGE_JWT_H

#include <stddef.h>
#include <time.h>
#include "../proto/svc.h"

#define EDGE_JWT_SECRET_MIN  32         //  bytes
#define EDGE_JWT_TOKEN_MAX   4096       //  longer Authorization values are refused unread

typedef struct edge_jwt_s edge_jwt_t;

typedef struct {
    char sub [UUID_STRLEN + 1];
    svc_role_t role;
    long exp;
} edge_jwt_claims_t;

//  NULL when the secret is shorter than EDGE_JWT_SECRET_MIN (logged).
edge_jwt_t *edge_jwt_new (const char *secret, size_t secret_len, long ttl_s);
void edge_jwt_destroy (edge_jwt_t **self_p);

//  A new token for sub/role issued at now. Caller frees. NULL on failure (logged).
char *edge_jwt_sign (edge_jwt_t *self, const char *sub, svc_role_t role, time_t now);

//  0 and claims filled when token is an HS256 token signed with our secret, unexpired
//  at now, with a uuid sub and role admin|agent; -1 otherwise (reason in why, a constant).
int edge_jwt_verify (edge_jwt_t *self, const char *token, time_t now,
                     edge_jwt_claims_t *claims, const char **why);

#endif
