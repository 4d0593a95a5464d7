/*  Unit tests for http-edge/request: a request's life as one state with a table of steps,
    and the CORS origins the API accepts.  */
#include "../../http-edge/request.h"
#include "testing.h"

//  Walks a request through states, checking each step is taken.
static bool
s_walk (const req_state_t *steps, size_t n)
{
    edge_req_t req;
    memset (&req, 0, sizeof req);
    for (size_t i = 0; i < n; i++) {
        if (!req_state_allowed (req.state, steps [i]))
            return false;
        req_state_set (&req, steps [i]);
        if (req.state != steps [i])
            return false;
    }
    return true;
}

TEST (test_a_request_starts_reading)
{
    edge_req_t req;
    memset (&req, 0, sizeof req);
    CHECK_INT (req.state, REQ_READING);
    CHECK (!req_state_waiting (&req));
}

TEST (test_a_brokered_request_waits_sleeps_wakes_and_is_queued)
{
    static const req_state_t life [] = {
        REQ_WAITING, REQ_SUSPENDED, REQ_ANSWERED, REQ_QUEUED, REQ_CLOSED
    };
    CHECK (s_walk (life, sizeof life / sizeof life [0]));
}

TEST (test_a_refused_body_is_dropped_then_its_answer_queued)
{
    static const req_state_t life [] = { REQ_DROPPING, REQ_QUEUED, REQ_CLOSED };
    CHECK (s_walk (life, sizeof life / sizeof life [0]));
}

TEST (test_only_a_waiting_or_suspended_request_is_in_the_pending_table)
{
    edge_req_t req;
    memset (&req, 0, sizeof req);
    for (req_state_t s = 0; s < REQ_STATES; s++) {
        req.state = s;
        CHECK_INT (req_state_waiting (&req), s == REQ_WAITING || s == REQ_SUSPENDED);
    }
}

TEST (test_the_client_may_leave_in_any_state_but_only_once)
{
    for (req_state_t s = 0; s < REQ_CLOSED; s++)
        CHECK (req_state_allowed (s, REQ_CLOSED));
    CHECK (!req_state_allowed (REQ_CLOSED, REQ_CLOSED));
}

TEST (test_steps_outside_the_table_are_refused)
{
    //  Each would break a promise: an answer queued while the request is still in the
    //  pending table, a refused request reaching the broker, a sleeping connection never
    //  woken, an answer queued twice, a closed request brought back.
    static const req_state_t bad [][2] = {
        { REQ_WAITING,   REQ_QUEUED },
        { REQ_DROPPING,  REQ_WAITING },
        { REQ_READING,   REQ_SUSPENDED },
        { REQ_SUSPENDED, REQ_QUEUED },
        { REQ_QUEUED,    REQ_QUEUED },
        { REQ_QUEUED,    REQ_DROPPING },
        { REQ_CLOSED,    REQ_READING },
        { REQ_READING,   REQ_STATES },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (req_state_allowed (bad [i][0], bad [i][1])) {
            fprintf (stderr, "  step %d -> %d allowed\n", (int) bad [i][0], (int) bad [i][1]);
            CHECK (0);
        }
}

TEST (test_the_ui_origins_on_loopback_are_always_allowed)
{
    CHECK (req_cors_allowed (NULL, 3000, "http://localhost:3000"));
    CHECK (req_cors_allowed (NULL, 3000, "http://127.0.0.1:3000"));
    CHECK (req_cors_allowed (NULL, 3000, "http://[::1]:3000"));
    CHECK (!req_cors_allowed (NULL, 3000, "http://localhost:3001"));
    CHECK (!req_cors_allowed (NULL, 3000, "http://evil.example"));
    CHECK (!req_cors_allowed (NULL, 3000, NULL));
    CHECK (!req_cors_allowed (NULL, 0, "http://localhost:0"));
}

TEST (test_frontend_url_may_list_several_origins)
{
    const char *list = "https://a.example, https://b.example/";
    CHECK (req_cors_allowed (list, 3000, "https://a.example"));
    CHECK (req_cors_allowed (list, 3000, "https://b.example"));
    CHECK (!req_cors_allowed (list, 3000, "https://c.example"));
    CHECK (!req_cors_allowed (list, 3000, "https://a.exampl"));
    CHECK (!req_cors_allowed (list, 3000, ""));
}

TEST_MAIN ("edge_request",
    T (test_a_request_starts_reading),
    T (test_a_brokered_request_waits_sleeps_wakes_and_is_queued),
    T (test_a_refused_body_is_dropped_then_its_answer_queued),
    T (test_only_a_waiting_or_suspended_request_is_in_the_pending_table),
    T (test_the_client_may_leave_in_any_state_but_only_once),
    T (test_steps_outside_the_table_are_refused),
    T (test_the_ui_origins_on_loopback_are_always_allowed),
    T (test_frontend_url_may_list_several_origins))
