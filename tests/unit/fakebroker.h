/*  fakebroker: a broker played by a unit test, a ROUTER on inproc that reads the 7/MDP
    client requests of the module under test and answers them by hand.  */
#ifndef TESTS_FAKEBROKER_H
#define TESTS_FAKEBROKER_H

#include <czmq.h>
#include "../../common/conf.h"
#include "../../proto/mdp.h"
#include "../../proto/svc.h"

//  One request as the broker read it: "" MDPC01 service rid auth payload.
typedef struct {
    zframe_t *sender;
    char service [64];
    char rid [SVC_RID_MAX + 1];
    char auth [64];
    char payload [512];
} fakebroker_request_t;

static int s_fakebroker_n;

//  A list of brokers (comma-separated) as a client reads BROKER_ENDPOINTS; NULL when bad.
//  One list at a time: the next call overwrites it.
static inline const conf_endpoints_t *
fakebroker_endpoints (const char *list)
{
    static conf_endpoints_t eps;
    setenv ("TEST_FAKEBROKER_ENDPOINTS", list, 1);
    int rc = conf_endpoints ("TEST_FAKEBROKER_ENDPOINTS", "TEST_FAKEBROKER_ENDPOINT", NULL, &eps);
    unsetenv ("TEST_FAKEBROKER_ENDPOINTS");
    return rc ? NULL : &eps;
}

//  A ROUTER bound to a fresh inproc endpoint, written into endpoint.
static inline zsock_t *
fakebroker_new (char endpoint [64])
{
    snprintf (endpoint, 64, "inproc://fakebroker-%d", s_fakebroker_n++);
    zsock_t *broker = zsock_new_router (endpoint);
    if (broker)
        zsock_set_rcvtimeo (broker, 2000);
    return broker;
}

//  Reads the next request (2 s at most) into req; -1 when none came or its frames are not
//  a client request's.
static inline int
fakebroker_read (zsock_t *broker, fakebroker_request_t *req)
{
    memset (req, 0, sizeof *req);
    zmsg_t *msg = zmsg_recv (broker);
    if (!msg || zmsg_size (msg) != 7) {
        zmsg_destroy (&msg);
        return -1;
    }
    req->sender = zmsg_pop (msg);
    char *frames [6];
    for (int i = 0; i < 6; i++)
        frames [i] = zmsg_popstr (msg);
    int rc = !*frames [0] && !strcmp (frames [1], MDPC_VERSION) ? 0 : -1;
    snprintf (req->service, sizeof req->service, "%s", frames [2]);
    snprintf (req->rid, sizeof req->rid, "%s", frames [3]);
    snprintf (req->auth, sizeof req->auth, "%s", frames [4]);
    snprintf (req->payload, sizeof req->payload, "%s", frames [5]);
    for (int i = 0; i < 6; i++)
        free (frames [i]);
    zmsg_destroy (&msg);
    if (rc)
        zframe_destroy (&req->sender);
    return rc;
}

//  Answers req's sender as service with rid, status and payload; sender is duplicated, so
//  req may be answered again (a forgery, a late reply).
static inline void
fakebroker_reply (zsock_t *broker, const fakebroker_request_t *req, const char *service,
                  const char *rid, const char *status, const char *payload)
{
    zmsg_t *msg = zmsg_new ();
    zframe_t *sender = zframe_dup (req->sender);
    zmsg_append (msg, &sender);
    zmsg_addstr (msg, "");
    zmsg_addstr (msg, MDPC_VERSION);
    zmsg_addstr (msg, service);
    zmsg_addstr (msg, rid);
    zmsg_addstr (msg, status);
    zmsg_addstr (msg, payload);
    zmsg_send (&msg, broker);
}

static inline void
fakebroker_request_clear (fakebroker_request_t *req)
{
    zframe_destroy (&req->sender);
}

#endif
