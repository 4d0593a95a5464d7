/*  Unit tests for progress-hub/clientq: the bounded per-client queue with coalescing.  */
#include "../../progress-hub/clientq.h"
#include "testing.h"

#define JOB_A "aaaaaaaa-0000-4000-8000-000000000001"
#define JOB_B "bbbbbbbb-0000-4000-8000-000000000002"

static event_payload_t *
s_text (const char *text)
{
    return event_payload_new (text, strlen (text));
}

//  Pushes text as kind for job and drops the caller's reference.
static clientq_result_t
s_push (clientq_t *q, event_kind_t kind, const char *job, const char *text)
{
    event_payload_t *p = s_text (text);
    clientq_result_t r = clientq_push (q, kind, job, p);
    event_payload_unref (&p);
    return r;
}

TEST (test_messages_come_out_in_the_order_they_went_in)
{
    clientq_t *q = clientq_new (8);
    s_push (q, EVENT_CREATED, JOB_A, "a1");
    s_push (q, EVENT_CREATED, JOB_B, "b1");
    s_push (q, EVENT_PROGRESS, JOB_A, "a2");
    CHECK_INT (clientq_size (q), 3);
    CHECK_STR (EVENT_TEXT (clientq_front (q)), "a1");
    clientq_pop (q);
    CHECK_STR (EVENT_TEXT (clientq_front (q)), "b1");
    clientq_pop (q);
    CHECK_STR (EVENT_TEXT (clientq_front (q)), "a2");
    clientq_pop (q);
    CHECK (clientq_front (q) == NULL);
    clientq_destroy (&q);
    CHECK (q == NULL);
}

TEST (test_pending_progress_of_one_job_is_replaced_by_the_latest)
{
    clientq_t *q = clientq_new (8);
    CHECK_INT (s_push (q, EVENT_PROGRESS, JOB_A, "a10"), CLIENTQ_QUEUED);
    CHECK_INT (s_push (q, EVENT_PROGRESS, JOB_B, "b10"), CLIENTQ_QUEUED);
    CHECK_INT (s_push (q, EVENT_PROGRESS, JOB_A, "a20"), CLIENTQ_COALESCED);
    CHECK_INT (s_push (q, EVENT_PROGRESS, JOB_A, "a30"), CLIENTQ_COALESCED);
    CHECK_INT (clientq_size (q), 2);
    CHECK_STR (EVENT_TEXT (clientq_front (q)), "a30");     //  latest wins, place kept
    clientq_destroy (&q);
}

TEST (test_final_event_is_never_coalesced_and_follows_the_last_progress)
{
    clientq_t *q = clientq_new (8);
    s_push (q, EVENT_PROGRESS, JOB_A, "a10");
    CHECK_INT (s_push (q, EVENT_COMPLETED, JOB_A, "a-done"), CLIENTQ_QUEUED);
    CHECK_INT (clientq_size (q), 2);
    CHECK_STR (EVENT_TEXT (clientq_front (q)), "a10");
    clientq_pop (q);
    CHECK_STR (EVENT_TEXT (clientq_front (q)), "a-done");
    clientq_destroy (&q);
}

//  Pushes kind for JOB_A into a full queue of two (progress of JOB_A, then other of JOB_B):
//  the push's result, or -1 when the queue then holds other than two.
static int
s_push_into_full (event_kind_t other, event_kind_t kind)
{
    clientq_t *q = clientq_new (2);
    s_push (q, EVENT_PROGRESS, JOB_A, "a1");
    s_push (q, other, JOB_B, "b1");
    clientq_result_t r = s_push (q, kind, JOB_A, "a2");
    size_t size = clientq_size (q);
    clientq_destroy (&q);
    return size == 2 ? (int) r : -1;
}

TEST (test_a_full_queue_still_coalesces_progress)
{
    CHECK_INT (s_push_into_full (EVENT_CREATED, EVENT_PROGRESS), CLIENTQ_COALESCED);
}

TEST (test_a_full_queue_refuses_a_final_event_so_the_client_is_dropped)
{
    CHECK_INT (s_push_into_full (EVENT_PROGRESS, EVENT_COMPLETED), CLIENTQ_FULL);
}

TEST (test_a_reader_that_never_reads_holds_at_most_max_messages)
{
    clientq_t *q = clientq_new (64);
    char text [32], job [40];
    int full = 0;
    for (int i = 0; i < 10000; i++) {
        snprintf (job, sizeof job, "%08x-0000-4000-8000-000000000000", i % 100);
        snprintf (text, sizeof text, "p%d", i);
        if (s_push (q, EVENT_PROGRESS, job, text) == CLIENTQ_FULL)
            full++;
        CHECK (clientq_size (q) <= 64);
    }
    CHECK_INT (clientq_size (q), 64);
    CHECK (full > 0);
    clientq_destroy (&q);
}

TEST (test_queue_holds_its_own_reference)
{
    clientq_t *q = clientq_new (4);
    event_payload_t *p = s_text ("x");
    clientq_push (q, EVENT_CREATED, JOB_A, p);
    clientq_push (q, EVENT_CREATED, JOB_B, p);
    CHECK_INT (p->refs, 3);
    clientq_destroy (&q);
    CHECK_INT (p->refs, 1);
    event_payload_unref (&p);
}

TEST (test_holds_says_whether_a_job_has_a_message_pending)
{
    clientq_t *q = clientq_new (8);
    CHECK (!clientq_holds (q, JOB_A));
    s_push (q, EVENT_CREATED, JOB_A, "a1");
    s_push (q, EVENT_PROGRESS, JOB_B, "b1");
    CHECK (clientq_holds (q, JOB_A));
    CHECK (clientq_holds (q, JOB_B));
    clientq_pop (q);
    CHECK (!clientq_holds (q, JOB_A));
    clientq_destroy (&q);
}

TEST_MAIN ("hub_clientq",
    T (test_messages_come_out_in_the_order_they_went_in),
    T (test_pending_progress_of_one_job_is_replaced_by_the_latest),
    T (test_final_event_is_never_coalesced_and_follows_the_last_progress),
    T (test_a_full_queue_still_coalesces_progress),
    T (test_a_full_queue_refuses_a_final_event_so_the_client_is_dropped),
    T (test_a_reader_that_never_reads_holds_at_most_max_messages),
    T (test_queue_holds_its_own_reference),
    T (test_holds_says_whether_a_job_has_a_message_pending))
