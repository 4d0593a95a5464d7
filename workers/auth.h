/*  auth: the auth.* services (login, me) and the user check every authenticated
    request passes through (the user must still exist; its role comes from the database).  */
#ifndef WORKERS_AUTH_H
#define WORKERS_AUTH_H

#include "service.h"

extern const svc_family_t auth_family;

//  Looks the user up: 0 and *role when it exists, 1 when it does not, -1 when the
//  database is unavailable or failed (logged).
int auth_user_role (db_t *db, const char *user, svc_role_t *role);

//  Constant-time equality of two NUL-terminated strings (time depends only on lengths).
bool auth_equal_ct (const char *a, const char *b);

#endif
