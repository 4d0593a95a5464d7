/*  Unit tests for progress-hub/event: validation of XSUB frames and the scoping rule.  */
#include "../../progress-hub/event.h"
#include "testing.h"

#define JOB   "0b5e2a49-6f0a-4f43-9a55-3d3c1c1f4b10"
#define ADMIN "11111111-2222-4333-8444-555555555555"
#define AGENT "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static int
s_parse (const char *topic, const char *body, event_t *ev, const char **why)
{
    return event_parse (topic, strlen (topic), body, strlen (body), ev, why);
}

TEST (test_a_worker_event_with_spaces_after_colons_is_accepted)
{
    event_t ev;
    const char *body = "{\"event\":\"jobs:progress\",\"data\":{\"id\": \"" JOB "\", "
                       "\"createdBy\": \"" ADMIN "\", \"processed\": 42, \"status\": \"running\"}}";
    CHECK_INT (s_parse ("jobs.progress." JOB, body, &ev, NULL), 0);
    CHECK_INT (ev.kind, EVENT_PROGRESS);
    CHECK_STR (ev.job_id, JOB);
    CHECK_STR (ev.created_by, ADMIN);
    CHECK_INT (ev.processed, 42);
    CHECK_STR (EVENT_TEXT (ev.payload), body);      //  forwarded byte for byte
    event_clear (&ev);
    CHECK (ev.payload == NULL);
}

TEST (test_every_contract_event_name_is_accepted)
{
    const char *names [] = { "created", "progress", "completed", "failed", "canceled" };
    for (int i = 0; i < 5; i++) {
        char topic [80], body [256];
        snprintf (topic, sizeof topic, "jobs.%s.%s", names [i], JOB);
        snprintf (body, sizeof body, "{\"event\":\"jobs:%s\",\"data\":{\"id\":\"%s\",\"createdBy\":\"%s\"}}",
                  names [i], JOB, AGENT);
        event_t ev;
        CHECK_INT (s_parse (topic, body, &ev, NULL), 0);
        CHECK_INT (ev.kind, i);
        CHECK_INT (event_kind_final (ev.kind), i >= 2);
        event_clear (&ev);
    }
}

TEST (test_garbage_frames_are_rejected_with_a_reason)
{
    const char *ok_body = "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\"}}";
    struct { const char *topic, *body; } bad [] = {
        { "", ok_body },
        { "jobs.created.", ok_body },
        { "jobs.created.not-a-uuid-not-a-uuid-not-a-uuid-xx", ok_body },
        { "jobs.exploded." JOB, "{\"event\":\"jobs:exploded\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\"}}" },
        { "tickets.created." JOB, ok_body },
        { "jobs.created." JOB, "" },
        { "jobs.created." JOB, "not json" },
        { "jobs.created." JOB, "[1,2]" },
        { "jobs.created." JOB, "{\"event\":\"jobs:progress\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\"}}" },
        { "jobs.created." JOB, "{\"event\":\"jobs:created\",\"data\":[]}" },
        { "jobs.created." JOB, "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" ADMIN "\",\"createdBy\":\"" ADMIN "\"}}" },
        { "jobs.created." JOB, "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\"}}" },
        { "jobs.created." JOB, "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":7}}" },
        { "jobs.created." JOB, "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\",\"processed\":\"x\"}}" },
        { "jobs.created." JOB, "{\"event\":\"jobs:created\",\"event\":\"jobs:created\",\"data\":{}}" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        event_t ev;
        const char *why = NULL;
        if (s_parse (bad [i].topic, bad [i].body, &ev, &why) != -1) {
            fprintf (stderr, "  case %zu accepted: %s %s\n", i, bad [i].topic, bad [i].body);
            CHECK (0);
        }
        CHECK (why != NULL);
        CHECK (ev.payload == NULL);
    }
}

TEST (test_oversized_body_is_rejected_before_parsing)
{
    size_t len = EVENT_BODY_MAX + 1;
    char *body = calloc (1, len);
    memset (body, ' ', len);
    event_t ev;
    const char *why = NULL;
    int rc = event_parse ("jobs.created." JOB, strlen ("jobs.created." JOB), body, len, &ev, &why);
    free (body);
    CHECK_INT (rc, -1);
    CHECK_STR (why, "bad_body_size");
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
    T (test_every_contract_event_name_is_accepted),
    T (test_garbage_frames_are_rejected_with_a_reason),
    T (test_oversized_body_is_rejected_before_parsing),
    T (test_admins_see_every_job),
    T (test_agents_see_only_their_own_jobs),
    T (test_nobody_without_a_role_sees_anything),
    T (test_payload_lives_until_its_last_reference_goes))
