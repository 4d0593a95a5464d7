/*  Unit tests for progress-hub/event: what the hub keeps of a decoded event (its shared
    text) and the scoping rule. The codec itself is tests/unit/test_event.c's.  */
#include "../../progress-hub/event.h"
#include "testing.h"

#define JOB   "0b5e2a49-6f0a-4f43-9a55-3d3c1c1f4b10"
#define ADMIN "11111111-2222-4333-8444-555555555555"
#define AGENT "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static int
s_parse (const char *topic, const char *body, event_t *ev, const char **why)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addstr (msg, body);
    int rc = event_parse (msg, ev, why);
    zmsg_destroy (&msg);
    return rc;
}

TEST (test_a_worker_event_with_spaces_after_colons_is_accepted)
{
    event_t ev;
    const char *body = "{\"event\":\"jobs:progress\",\"data\":{\"id\": \"" JOB "\", "
                       "\"createdBy\": \"" ADMIN "\", \"processed\": 42, \"status\": \"running\"}}";
    CHECK_INT (s_parse ("jobs.progress." JOB, body, &ev, NULL), 0);
    CHECK_INT (ev.info.kind, EVENT_PROGRESS);
    CHECK_STR (ev.info.job_id, JOB);
    CHECK_STR (ev.info.created_by, ADMIN);
    CHECK_INT (ev.info.processed, 42);
    CHECK_STR (EVENT_TEXT (ev.payload), body);      //  forwarded byte for byte
    event_clear (&ev);
    CHECK (ev.payload == NULL);
}

TEST (test_a_rejected_event_says_why_and_holds_no_text)
{
    event_t ev;
    const char *why = NULL;
    CHECK_INT (s_parse ("jobs.created." JOB, "not json", &ev, &why), -1);
    CHECK_STR (why, "body_not_json_object");
    CHECK (ev.payload == NULL);
    zmsg_t *one = zmsg_new ();
    zmsg_addstr (one, "jobs.created." JOB);
    CHECK_INT (event_parse (one, &ev, &why), -1);
    zmsg_destroy (&one);
    CHECK_STR (why, "frame_count");
    CHECK (ev.payload == NULL);
}

TEST (test_admins_see_every_job)
{
    CHECK (event_visible (SVC_ROLE_ADMIN, ADMIN, AGENT));
    CHECK (event_visible (SVC_ROLE_ADMIN, ADMIN, ADMIN));
}

TEST (test_agents_see_only_their_own_jobs)
{
    CHECK (event_visible (SVC_ROLE_AGENT, AGENT, AGENT));
    CHECK (!event_visible (SVC_ROLE_AGENT, AGENT, ADMIN));
    CHECK (!event_visible (SVC_ROLE_AGENT, "", ""));
}

TEST (test_nobody_without_a_role_sees_anything)
{
    CHECK (!event_visible (SVC_ROLE_NONE, AGENT, AGENT));
}

TEST (test_payload_lives_until_its_last_reference_goes)
{
    event_payload_t *p = event_payload_new ("{}", 2);
    event_payload_t *q = event_payload_ref (p);
    CHECK_INT (p->refs, 2);
    event_payload_unref (&q);
    CHECK (q == NULL);
    CHECK_INT (p->refs, 1);
    CHECK_STR (EVENT_TEXT (p), "{}");
    event_payload_unref (&p);
    CHECK (p == NULL);
}

TEST_MAIN ("hub_event",
    T (test_a_worker_event_with_spaces_after_colons_is_accepted),
    T (test_a_rejected_event_says_why_and_holds_no_text),
    T (test_admins_see_every_job),
    T (test_agents_see_only_their_own_jobs),
    T (test_nobody_without_a_role_sees_anything),
    T (test_payload_lives_until_its_last_reference_goes))
