/*  test_event: the hub event codec (proto/event.c): a round trip per kind, the exact
    frames on the wire, and every kind of malformed event the decoder must reject.  */
#include "../../proto/event.h"
#include "testing.h"

#define JOB   "0b5e2a49-6f0a-4f43-9a55-3d3c1c1f4b10"
#define ADMIN "11111111-2222-4333-8444-555555555555"
#define AGENT "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

#define JOB_JSON  "{\"id\":\"" JOB "\",\"createdBy\":\"" AGENT "\",\"processed\":7,\"seq\":42}"
#define OK_BODY   "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\"}}"

static zmsg_t *
s_frames (const char *topic, const char *body)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addstr (msg, body);
    return msg;
}

//  Decoding must fail, say why, and leave nothing filled in; returns the reason.
static const char *
s_rejected (zmsg_t *msg)
{
    event_info_t info;
    const char *why = NULL;
    int rc = event_decode (msg, &info, &why);
    zmsg_destroy (&msg);
    if (rc != -1 || !why || info.job_id [0] || info.processed != -1 || info.seq != -1)
        return NULL;
    return why;
}

static bool
s_frame_is (zframe_t *frame, const char *text)
{
    return frame && zframe_size (frame) == strlen (text)
        && memcmp (zframe_data (frame), text, strlen (text)) == 0;
}

TEST (test_every_kind_round_trips)
{
    for (int kind = 0; kind < EVENT_KINDS_N; kind++) {
        zmsg_t *msg = event_encode ((event_kind_t) kind, JOB, JOB_JSON);
        CHECK (msg != NULL);
        event_info_t info;
        const char *why = "unset";
        int rc = event_decode (msg, &info, &why);
        zmsg_destroy (&msg);
        if (rc)
            fprintf (stderr, "  kind %s rejected: %s\n", event_kind_name ((event_kind_t) kind), why);
        CHECK_INT (rc, 0);
        CHECK (why == NULL);
        CHECK_INT (info.kind, kind);
        CHECK_STR (info.job_id, JOB);
        CHECK_STR (info.created_by, AGENT);
        CHECK_INT (info.processed, 7);
        CHECK_INT (info.seq, 42);
    }
}

TEST (test_seq_round_trips_from_one_to_the_largest_exact_json_integer)
{
    const char *texts [] = {
        "{\"id\":\"" JOB "\",\"createdBy\":\"" AGENT "\",\"seq\":1}",
        "{\"id\":\"" JOB "\",\"createdBy\":\"" AGENT "\",\"seq\":9007199254740991}",
    };
    long long want [] = { 1, EVENT_SEQ_MAX };
    for (int i = 0; i < 2; i++) {
        zmsg_t *msg = event_encode (EVENT_PROGRESS, JOB, texts [i]);
        event_info_t info;
        CHECK_INT (event_decode (msg, &info, NULL), 0);
        zmsg_destroy (&msg);
        CHECK_INT (info.seq, want [i]);
    }
}

TEST (test_the_frames_on_the_wire_are_the_documented_ones)
{
    zmsg_t *msg = event_encode (EVENT_PROGRESS, JOB, JOB_JSON);
    CHECK (msg != NULL);
    CHECK_INT (zmsg_size (msg), 2);
    CHECK (s_frame_is (zmsg_first (msg), "jobs.progress." JOB));
    CHECK (s_frame_is (zmsg_next (msg), "{\"event\":\"jobs:progress\",\"data\":" JOB_JSON "}"));
    zmsg_destroy (&msg);
}

TEST (test_kind_names_and_final_kinds_come_from_one_table)
{
    const char *names [] = { "created", "progress", "completed", "failed", "canceled" };
    CHECK_INT (EVENT_KINDS_N, 5);
    for (int i = 0; i < EVENT_KINDS_N; i++) {
        CHECK_STR (event_kind_name ((event_kind_t) i), names [i]);
        CHECK_INT (event_kind_final ((event_kind_t) i), i >= EVENT_COMPLETED);
    }
    CHECK_STR (event_kind_name (EVENT_KINDS_N), "?");
    CHECK (!event_kind_final (EVENT_KINDS_N));
}

TEST (test_a_job_status_names_the_kind_that_announces_it)
{
    const char *statuses [] = { "queued", "running", "completed", "failed", "canceled" };
    for (int i = 0; i < EVENT_KINDS_N; i++)
        CHECK_INT (event_kind_of_status (statuses [i]), i);
    CHECK_INT (event_kind_of_status ("progress"), EVENT_KINDS_N);
    CHECK_INT (event_kind_of_status (""), EVENT_KINDS_N);
    CHECK_INT (event_kind_of_status (NULL), EVENT_KINDS_N);
}

TEST (test_a_job_id_in_upper_case_decodes_in_lower_case)
{
    zmsg_t *msg = s_frames ("jobs.created.0B5E2A49-6F0A-4F43-9A55-3D3C1C1F4B10",
                            "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\","
                            "\"createdBy\":\"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\"}}");
    event_info_t info;
    CHECK_INT (event_decode (msg, &info, NULL), 0);
    zmsg_destroy (&msg);
    CHECK_STR (info.job_id, JOB);
    CHECK_STR (info.created_by, AGENT);
    CHECK_INT (info.processed, -1);             //  absent
    CHECK_INT (info.seq, -1);                   //  absent: a publisher of before seq
}

TEST (test_encode_refuses_what_no_hub_would_take)
{
    CHECK (event_encode (EVENT_KINDS_N, JOB, JOB_JSON) == NULL);
    CHECK (event_encode ((event_kind_t) -1, JOB, JOB_JSON) == NULL);
    CHECK (event_encode (EVENT_CREATED, "not-a-uuid", JOB_JSON) == NULL);
    CHECK (event_encode (EVENT_CREATED, NULL, JOB_JSON) == NULL);
    CHECK (event_encode (EVENT_CREATED, JOB, NULL) == NULL);
    char *big = malloc (EVENT_BODY_MAX + 1);
    memset (big, ' ', EVENT_BODY_MAX);
    big [EVENT_BODY_MAX] = 0;
    CHECK (event_encode (EVENT_CREATED, JOB, big) == NULL);
    free (big);
}

TEST (test_decode_rejects_a_bad_topic)
{
    const char *topics [] = {
        "", "jobs.created.", "jobs.created.not-a-uuid-not-a-uuid-not-a-uuid-xx",
        "tickets.created." JOB, "jobs.created-" JOB,
    };
    for (size_t i = 0; i < sizeof topics / sizeof topics [0]; i++) {
        const char *why = s_rejected (s_frames (topics [i], OK_BODY));
        if (!why || strcmp (why, "bad_topic"))
            fprintf (stderr, "  topic \"%s\": got %s\n", topics [i], why ? why : "(accepted)");
        CHECK_STR (why, "bad_topic");
    }
    char topic [EVENT_TOPIC_MAX + 2];
    memset (topic, 'x', sizeof topic);
    memcpy (topic, "jobs.", 5);
    memcpy (topic + sizeof topic - 1 - 37, "." JOB, 38);
    CHECK_STR (s_rejected (s_frames (topic, OK_BODY)), "bad_topic");    //  one byte over
}

TEST (test_decode_rejects_an_unknown_kind)
{
    CHECK_STR (s_rejected (s_frames ("jobs.exploded." JOB,
        "{\"event\":\"jobs:exploded\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\"}}")),
        "unknown_event");
}

TEST (test_decode_rejects_a_topic_and_body_of_different_kinds)
{
    CHECK_STR (s_rejected (s_frames ("jobs.progress." JOB, OK_BODY)), "event_mismatch");
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs:createdx\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\"}}")),
        "event_mismatch");
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs.created\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\"}}")),
        "event_mismatch");
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB, "{\"data\":{}}")), "event_mismatch");
}

TEST (test_decode_rejects_a_body_about_another_job)
{
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" ADMIN "\",\"createdBy\":\"" ADMIN "\"}}")),
        "data_id_mismatch");
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs:created\",\"data\":{\"createdBy\":\"" ADMIN "\"}}")),
        "data_id_mismatch");
}

TEST (test_decode_rejects_a_body_that_is_not_a_json_object)
{
    const char *bodies [] = { "not json", "[1,2]", "\"jobs:created\"", "{\"event\":" };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies [0]; i++)
        CHECK_STR (s_rejected (s_frames ("jobs.created." JOB, bodies [i])), "body_not_json_object");
    //  Duplicate keys would let the hub and a browser read two different events.
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs:created\",\"event\":\"jobs:created\",\"data\":{}}")), "body_not_json_object");
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB, "")), "bad_body_size");
}

TEST (test_decode_rejects_bad_data_fields)
{
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs:created\",\"data\":[]}")), "data_not_object");
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\"}}")), "bad_created_by");
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":7}}")), "bad_created_by");
    CHECK_STR (s_rejected (s_frames ("jobs.created." JOB,
        "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\",\"createdBy\":\"" ADMIN "\","
        "\"processed\":\"x\"}}")), "bad_processed");
}

TEST (test_decode_rejects_a_seq_that_is_not_a_positive_exact_integer)
{
    const char *seqs [] = { "0", "-1", "1.5", "\"7\"", "null", "true", "9007199254740992" };
    for (size_t i = 0; i < sizeof seqs / sizeof seqs [0]; i++) {
        char body [256];
        snprintf (body, sizeof body, "{\"event\":\"jobs:created\",\"data\":{\"id\":\"" JOB "\","
                  "\"createdBy\":\"" ADMIN "\",\"seq\":%s}}", seqs [i]);
        const char *why = s_rejected (s_frames ("jobs.created." JOB, body));
        if (!why || strcmp (why, "bad_seq"))
            fprintf (stderr, "  seq %s: got %s\n", seqs [i], why ? why : "(accepted)");
        CHECK_STR (why, "bad_seq");
    }
}

TEST (test_decode_rejects_a_wrong_frame_count)
{
    CHECK_STR (s_rejected (NULL), "frame_count");
    CHECK_STR (s_rejected (zmsg_new ()), "frame_count");
    zmsg_t *one = zmsg_new ();
    zmsg_addstr (one, "jobs.created." JOB);
    CHECK_STR (s_rejected (one), "frame_count");
    zmsg_t *three = s_frames ("jobs.created." JOB, OK_BODY);
    zmsg_addstr (three, "");
    CHECK_STR (s_rejected (three), "frame_count");
}

TEST (test_decode_rejects_an_oversized_body_before_parsing_it)
{
    size_t len = EVENT_BODY_MAX + 1;
    char *body = malloc (len);
    memset (body, ' ', len);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "jobs.created." JOB);
    zmsg_addmem (msg, body, len);
    free (body);
    CHECK_STR (s_rejected (msg), "bad_body_size");
}

TEST (test_decode_frames_takes_missing_frames_as_malformed)
{
    event_info_t info;
    const char *why = NULL;
    CHECK_INT (event_decode_frames (NULL, 0, OK_BODY, strlen (OK_BODY), &info, &why), -1);
    CHECK_STR (why, "bad_topic");
    const char *topic = "jobs.created." JOB;
    CHECK_INT (event_decode_frames (topic, strlen (topic), NULL, 0, &info, &why), -1);
    CHECK_STR (why, "bad_body_size");
}

TEST_MAIN ("event",
    T (test_every_kind_round_trips),
    T (test_seq_round_trips_from_one_to_the_largest_exact_json_integer),
    T (test_the_frames_on_the_wire_are_the_documented_ones),
    T (test_kind_names_and_final_kinds_come_from_one_table),
    T (test_a_job_status_names_the_kind_that_announces_it),
    T (test_a_job_id_in_upper_case_decodes_in_lower_case),
    T (test_encode_refuses_what_no_hub_would_take),
    T (test_decode_rejects_a_bad_topic),
    T (test_decode_rejects_an_unknown_kind),
    T (test_decode_rejects_a_topic_and_body_of_different_kinds),
    T (test_decode_rejects_a_body_about_another_job),
    T (test_decode_rejects_a_body_that_is_not_a_json_object),
    T (test_decode_rejects_bad_data_fields),
    T (test_decode_rejects_a_seq_that_is_not_a_positive_exact_integer),
    T (test_decode_rejects_a_wrong_frame_count),
    T (test_decode_rejects_an_oversized_body_before_parsing_it),
    T (test_decode_frames_takes_missing_frames_as_malformed))
