/*  Unit tests for http-edge/edge, the actor as a whole, as Malamute tests its server: the
    edge runs in a thread of this process against a broker played by the test (a ROUTER on
    inproc), and is driven over a real TCP socket with raw HTTP. What crosses each side is
    checked frame by frame: which requests reach the broker, with which id and auth, and
    which replies complete which request.  */
#define _GNU_SOURCE                 //  strcasestr
#include "../../http-edge/edge.h"
#include "../../common/jwt.h"
#include "../../common/stop.h"
#include "../../proto/svc.h"
#include "fakebroker.h"
#include "testing.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define SECRET      "a-unit-test-secret-of-forty-characters!!"
#define ADMIN_ID    "00000000-0000-4000-8000-0000000000a1"

typedef struct {
    edge_config_t cfg;
    zsock_t *router;                //  the broker, played by the test
    zsock_t *router2;               //  a second broker, when the test asks for one
    edge_t *edge;
    pthread_t thread;
    jwt_hs256_t *jwt;
} fixture_t;

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    bind (fd, (struct sockaddr *) &a, sizeof a);
    getsockname (fd, (struct sockaddr *) &a, &len);
    close (fd);
    return ntohs (a.sin_port);
}

static void *
s_run (void *arg)
{
    edge_run ((edge_t *) arg);
    return NULL;
}

//  The edge against one broker on inproc, or (two) against two on loopback TCP, whose
//  connections drop as a killed broker's do.
static bool
s_start_with (fixture_t *f, bool two)
{
    static int n;
    char endpoint [64], list [160];
    memset (f, 0, sizeof *f);
    if (two) {
        f->router = zsock_new_router ("tcp://127.0.0.1:*");
        f->router2 = zsock_new_router ("tcp://127.0.0.1:*");
        if (!f->router || !f->router2)
            return false;
        snprintf (list, sizeof list, "%s,%s", zsock_endpoint (f->router),
                  zsock_endpoint (f->router2));
    }
    else {
        snprintf (endpoint, sizeof endpoint, "inproc://edge-test-%d", ++n);
        f->router = zsock_new_router (endpoint);
        snprintf (list, sizeof list, "%s", endpoint);
    }
    const conf_endpoints_t *brokers = fakebroker_endpoints (list);
    if (!brokers)
        return false;
    edge_config_t *c = &f->cfg;
    *c = (edge_config_t) {
        .bind_address = "127.0.0.1", .port = s_free_port (), .web_port = 0, .ws_port = 3002,
        .web_root = "web", .cors_origin = "http://localhost:3000",
        .brokers = *brokers, .request_timeout_ms = 1000, .max_inflight = 64,
        .max_body_bytes = 1 << 20, .max_job_items = 1000, .max_job_uploads = 2,
        .max_job_body_bytes = 1 << 20, .body_budget_bytes = 8 << 20, .rate_per_user = 1000,
        .rate_login_per_min = 1000, .conn_limit = 64, .conn_timeout_s = 10,
        .body_timeout_s = 5, .anon_per_address = 16, .uploads_per_user = 8,
        .max_slow_inflight = 4, .conns_per_address = 64, .header_timeout_s = 5,
        .sndhwm = 1000, .jwt_secret = SECRET,
        .jwt_ttl_s = 3600,
    };
    stop_requested = 0;
    f->jwt = jwt_hs256_new (SECRET, strlen (SECRET), 3600);
    f->edge = edge_new (&f->cfg);
    if (!f->router || !f->edge || !f->jwt)
        return false;
    return pthread_create (&f->thread, NULL, s_run, f->edge) == 0;
}

static bool
s_start (fixture_t *f)
{
    return s_start_with (f, false);
}

static void
s_stop (fixture_t *f)
{
    stop_requested = 1;
    pthread_join (f->thread, NULL);
    edge_destroy (&f->edge);
    zsock_destroy (&f->router);
    zsock_destroy (&f->router2);
    jwt_hs256_destroy (&f->jwt);
}

//  The next request the edge sends a broker (router), answering its mmi.status pings on
//  the way as a broker would; NULL after timeout_ms. Frames: peer, "", MDPC01, service,
//  body.
static zmsg_t *
s_broker_next_on (zsock_t *router, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    zpoller_t *poller = zpoller_new (router, NULL);
    zmsg_t *got = NULL;
    while (!got && zclock_mono () < deadline) {
        if (!zpoller_wait (poller, (int) (deadline - zclock_mono ())))
            continue;
        zmsg_t *msg = zmsg_recv (router);
        zframe_t *peer = zmsg_first (msg);
        zmsg_next (msg);
        zmsg_next (msg);
        char *service = zframe_strdup (zmsg_next (msg));
        if (service && !strcmp (service, "mmi.status")) {
            zmsg_t *status = zmsg_new ();
            zmsg_append (status, &(zframe_t *) { zframe_dup (peer) });
            zmsg_addstr (status, "");
            zmsg_addstr (status, "MDPC01");
            zmsg_addstr (status, "mmi.status");
            zmsg_addstr (status, "{\"workers\":1,\"services\":[]}");
            zmsg_send (&status, router);
            zmsg_destroy (&msg);
        }
        else
            got = msg;
        free (service);
    }
    zpoller_destroy (&poller);
    return got;
}

static zmsg_t *
s_broker_next (fixture_t *f, int timeout_ms)
{
    return s_broker_next_on (f->router, timeout_ms);
}

//  Sends a reply as the broker (router): to peer, for service, under rid.
static void
s_broker_reply_on (zsock_t *router, zframe_t *peer, const char *service, const char *rid,
                   int status, const char *payload)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *) { zframe_dup (peer) });
    zmsg_addstr (msg, "");
    zmsg_addstr (msg, "MDPC01");
    zmsg_addstr (msg, service);
    zmsg_addstr (msg, rid);
    zmsg_addstrf (msg, "%d", status);
    zmsg_addstr (msg, payload);
    zmsg_send (&msg, router);
}

static void
s_broker_reply (fixture_t *f, zframe_t *peer, const char *service, const char *rid, int status,
                const char *payload)
{
    s_broker_reply_on (f->router, peer, service, rid, status, payload);
}

static int
s_connect (fixture_t *f)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) f->cfg.port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    struct timeval tv = { .tv_sec = 5 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 100; i++) {
        if (connect (fd, (struct sockaddr *) &a, sizeof a) == 0)
            return fd;
        usleep (10000);
    }
    close (fd);
    return -1;
}

//  One whole HTTP answer (headers and Content-Length bytes) into buf, NUL-terminated; its
//  status, or -1 when none came within the socket's 5 s.
static int
s_read_answer (int fd, char *buf, size_t size)
{
    size_t n = 0;
    char *body = NULL;
    long want = -1;
    while (n + 1 < size) {
        ssize_t r = recv (fd, buf + n, size - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t) r;
        buf [n] = 0;
        if (!body && (body = strstr (buf, "\r\n\r\n"))) {
            body += 4;
            const char *cl = strcasestr (buf, "content-length:");
            want = cl ? atol (cl + 15) : 0;
        }
        if (body && (long) (n - (size_t) (body - buf)) >= want)
            break;
    }
    buf [n] = 0;
    int status = -1;
    return sscanf (buf, "HTTP/1.1 %d", &status) == 1 ? status : -1;
}

static char *
s_frame_str (zmsg_t *msg, int index)
{
    zframe_t *frame = zmsg_first (msg);
    while (frame && index--)
        frame = zmsg_next (msg);
    return frame ? zframe_strdup (frame) : NULL;
}

TEST (test_a_login_goes_out_under_the_edges_own_id_and_its_reply_answers_it)
{
    fixture_t f;
    CHECK (s_start (&f));
    int fd = s_connect (&f);
    CHECK (fd >= 0);
    const char *body = "{\"email\":\"a@example.com\",\"password\":\"pw\"}";
    dprintf (fd, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nX-Request-Id: client-1\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen (body), body);
    zmsg_t *req = s_broker_next (&f, 3000);
    CHECK (req);
    char *service = s_frame_str (req, 3), *rid = s_frame_str (req, 4), *auth = s_frame_str (req, 5);
    CHECK_STR (service, "auth.login");
    CHECK_INT (strlen (rid), 32);               //  ours, random: never the client's id
    CHECK (strcmp (rid, "client-1") != 0);
    CHECK_STR (auth, "");
    s_broker_reply (&f, zmsg_first (req), "auth.login", rid, 200,
                    "{\"user\":{\"id\":\"" ADMIN_ID "\",\"email\":\"a@example.com\","
                    "\"name\":\"A\",\"role\":\"admin\"}}");
    char answer [8192];
    CHECK_INT (s_read_answer (fd, answer, sizeof answer), 200);
    CHECK (strcasestr (answer, "X-Request-Id: client-1"));
    char *token = strstr (answer, "\"token\":\"");
    CHECK (token);
    token += 9;
    *strchr (token, '"') = 0;
    jwt_hs256_claims_t claims;
    const char *why = NULL;
    CHECK_INT (jwt_hs256_verify (f.jwt, token, time (NULL), &claims, &why), 0);
    CHECK_STR (claims.sub, ADMIN_ID);
    free (service);
    free (rid);
    free (auth);
    zmsg_destroy (&req);
    close (fd);
    s_stop (&f);
}

TEST (test_only_a_reply_under_the_waiting_id_and_service_completes_a_request)
{
    fixture_t f;
    CHECK (s_start (&f));
    char *token = jwt_hs256_sign (f.jwt, ADMIN_ID, SVC_ROLE_ADMIN, time (NULL));
    int fd = s_connect (&f);
    CHECK (fd >= 0 && token);
    dprintf (fd, "GET /api/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", token);
    zmsg_t *req = s_broker_next (&f, 3000);
    CHECK (req);
    char *rid = s_frame_str (req, 4), *auth = s_frame_str (req, 5);
    CHECK_STR (auth, ADMIN_ID " admin");        //  the user as the token says, for workers
    const char *forged = "{\"id\":\"" ADMIN_ID "\",\"email\":\"forged@example.com\","
                         "\"name\":\"F\",\"role\":\"admin\"}";
    //  Another service under the waiting id, and the right service under another id.
    s_broker_reply (&f, zmsg_first (req), "tickets.get", rid, 200, forged);
    s_broker_reply (&f, zmsg_first (req), "auth.me", "0123456789abcdef0123456789abcdef", 200,
                    forged);
    s_broker_reply (&f, zmsg_first (req), "auth.me", rid, 200,
                    "{\"id\":\"" ADMIN_ID "\",\"email\":\"a@example.com\",\"name\":\"A\","
                    "\"role\":\"admin\"}");
    char answer [8192];
    CHECK_INT (s_read_answer (fd, answer, sizeof answer), 200);
    CHECK (strstr (answer, "a@example.com") && !strstr (answer, "forged"));
    free (rid);
    free (auth);
    free (token);
    zmsg_destroy (&req);
    close (fd);
    s_stop (&f);
}

TEST (test_a_late_reply_finds_nobody_even_when_the_client_reuses_its_id)
{
    fixture_t f;
    CHECK (s_start (&f));
    int fd = s_connect (&f);
    CHECK (fd >= 0);
    const char *body = "{\"email\":\"a@example.com\",\"password\":\"pw\"}";
    const char *head = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nX-Request-Id: same\r\n"
                       "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s";
    dprintf (fd, head, strlen (body), body);
    zmsg_t *first = s_broker_next (&f, 3000);
    CHECK (first);
    char answer [8192];
    CHECK_INT (s_read_answer (fd, answer, sizeof answer), 504);     //  REQUEST_TIMEOUT_MS 1 s
    dprintf (fd, head, strlen (body), body);
    zmsg_t *second = s_broker_next (&f, 3000);
    CHECK (second);
    char *rid1 = s_frame_str (first, 4), *rid2 = s_frame_str (second, 4);
    CHECK (strcmp (rid1, rid2) != 0);
    //  The first login's answer comes late: an admin. It must not answer the second.
    s_broker_reply (&f, zmsg_first (first), "auth.login", rid1, 200,
                    "{\"user\":{\"id\":\"" ADMIN_ID "\",\"email\":\"a@example.com\","
                    "\"name\":\"A\",\"role\":\"admin\"}}");
    s_broker_reply (&f, zmsg_first (second), "auth.login", rid2, 401,
                    "{\"error\":{\"code\":\"invalid_credentials\",\"message\":\"no\"}}");
    CHECK_INT (s_read_answer (fd, answer, sizeof answer), 401);
    CHECK (!strstr (answer, "\"token\""));
    free (rid1);
    free (rid2);
    zmsg_destroy (&first);
    zmsg_destroy (&second);
    close (fd);
    s_stop (&f);
}

TEST (test_a_request_without_a_token_is_refused_before_its_body_and_never_reaches_the_broker)
{
    fixture_t f;
    CHECK (s_start (&f));
    int fd = s_connect (&f);
    CHECK (fd >= 0);
    dprintf (fd, "POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 10485760\r\n\r\n");
    char answer [8192];
    CHECK_INT (s_read_answer (fd, answer, sizeof answer), 401);
    CHECK (s_broker_next (&f, 300) == NULL);
    close (fd);
    s_stop (&f);
}

//  Sends GET /api/auth/me as the admin on a new connection; its fd.
static int
s_send_me (fixture_t *f)
{
    char *token = jwt_hs256_sign (f->jwt, ADMIN_ID, SVC_ROLE_ADMIN, time (NULL));
    int fd = s_connect (f);
    if (fd >= 0 && token)
        dprintf (fd, "GET /api/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
                 token);
    free (token);
    return fd;
}

//  The request that reached one of the two brokers, which is written into *at.
static zmsg_t *
s_either_next (fixture_t *f, zsock_t **at)
{
    for (int i = 0; i < 30; i++) {
        zsock_t *r = i % 2 ? f->router2 : f->router;
        zmsg_t *msg = s_broker_next_on (r, 100);
        if (msg) {
            *at = r;
            return msg;
        }
    }
    return NULL;
}

//  Frames 3.. of two requests (service, rid, auth, payload) are the same.
static bool
s_same_request (zmsg_t *a, zmsg_t *b)
{
    bool same = zmsg_size (a) == zmsg_size (b);
    for (int i = 3; same && i < (int) zmsg_size (a); i++) {
        char *x = s_frame_str (a, i), *y = s_frame_str (b, i);
        same = x && y && !strcmp (x, y);
        free (x);
        free (y);
    }
    return same;
}

static const char *s_me_answer =
    "{\"id\":\"" ADMIN_ID "\",\"email\":\"a@example.com\",\"name\":\"A\",\"role\":\"admin\"}";

TEST (test_requests_go_round_robin_over_the_live_brokers)
{
    fixture_t f;
    CHECK (s_start_with (&f, true));
    //  Both brokers answer mmi.status before the requests: both are live.
    CHECK (s_broker_next_on (f.router, 300) == NULL && s_broker_next_on (f.router2, 300) == NULL);
    int fd1 = s_send_me (&f);
    zmsg_t *one = s_broker_next_on (f.router, 2000);
    int fd2 = s_send_me (&f);
    zmsg_t *two = s_broker_next_on (f.router2, 2000);
    CHECK (one && two);
    char *rid1 = s_frame_str (one, 4), *rid2 = s_frame_str (two, 4);
    s_broker_reply_on (f.router, zmsg_first (one), "auth.me", rid1, 200, s_me_answer);
    s_broker_reply_on (f.router2, zmsg_first (two), "auth.me", rid2, 200, s_me_answer);
    char answer [8192];
    CHECK_INT (s_read_answer (fd1, answer, sizeof answer), 200);
    CHECK_INT (s_read_answer (fd2, answer, sizeof answer), 200);
    free (rid1);
    free (rid2);
    zmsg_destroy (&one);
    zmsg_destroy (&two);
    close (fd1);
    close (fd2);
    s_stop (&f);
}

//  A request whose broker was killed, as the other broker got it again.
typedef struct {
    fixture_t f;
    int fd;                         //  the client's connection
    zmsg_t *sent;                   //  the request as first sent
    zmsg_t *again;                  //  as the other broker got it; NULL when not within 2 s
    zsock_t **other;                //  the other broker's socket in f
    int64_t took_ms;                //  from the kill to the other broker's read
} handover_t;

//  Two brokers live, a request sent, and the broker it reached killed. False when a step
//  failed.
static bool
s_kill_its_broker (handover_t *h)
{
    memset (h, 0, sizeof *h);
    h->fd = -1;
    fixture_t *f = &h->f;
    if (!s_start_with (f, true))
        return false;
    //  Both answer mmi.status before the request: both are live.
    s_broker_next_on (f->router, 300);
    s_broker_next_on (f->router2, 300);
    h->fd = s_send_me (f);
    zsock_t *first = NULL;
    h->sent = s_either_next (f, &first);
    if (!h->sent)
        return false;
    bool first_is_one = first == f->router;
    h->other = first_is_one ? &f->router2 : &f->router;
    int64_t t0 = zclock_mono ();
    zsock_destroy (first_is_one ? &f->router : &f->router2);
    h->again = s_broker_next_on (*h->other, 2000);
    h->took_ms = zclock_mono () - t0;
    return h->again != NULL;
}

static void
s_handover_end (handover_t *h)
{
    zmsg_destroy (&h->sent);
    zmsg_destroy (&h->again);
    close (h->fd);
    s_stop (&h->f);
}

TEST (test_a_request_whose_broker_dies_goes_once_to_another_with_the_same_frames)
{
    handover_t h;
    //  Its connection drops as a killed broker's does: the request is elsewhere at once.
    CHECK (s_kill_its_broker (&h));
    CHECK (h.took_ms < 1000);
    CHECK (s_same_request (h.sent, h.again));
    char *rid = s_frame_str (h.again, 4);
    s_broker_reply_on (*h.other, zmsg_first (h.again), "auth.me", rid, 200, s_me_answer);
    char answer [8192];
    CHECK_INT (s_read_answer (h.fd, answer, sizeof answer), 200);
    CHECK (strstr (answer, "a@example.com"));
    free (rid);
    s_handover_end (&h);
}

TEST (test_a_request_sent_again_is_answered_503_when_its_second_broker_dies_too)
{
    handover_t h;
    CHECK (s_kill_its_broker (&h));
    zsock_destroy (h.other);
    char answer [8192];
    CHECK_INT (s_read_answer (h.fd, answer, sizeof answer), 503);
    CHECK (strstr (answer, "broker_unavailable") && strcasestr (answer, "Retry-After: 1"));
    s_handover_end (&h);
}

TEST_MAIN ("edge_edge",
    T (test_a_login_goes_out_under_the_edges_own_id_and_its_reply_answers_it),
    T (test_only_a_reply_under_the_waiting_id_and_service_completes_a_request),
    T (test_a_late_reply_finds_nobody_even_when_the_client_reuses_its_id),
    T (test_a_request_without_a_token_is_refused_before_its_body_and_never_reaches_the_broker),
    T (test_requests_go_round_robin_over_the_live_brokers),
    T (test_a_request_whose_broker_dies_goes_once_to_another_with_the_same_frames),
    T (test_a_request_sent_again_is_answered_503_when_its_second_broker_dies_too))
