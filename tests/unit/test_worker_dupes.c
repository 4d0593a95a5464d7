/*  Unit tests for workers/dupes: which ids of a job repeat an earlier one.  */
#include "testing.h"
#include "../../workers/dupes.h"

#include <stdio.h>

TEST (test_no_duplicates_marks_nothing)
{
    const char *ids [] = { "00000000-0000-4000-8000-000000000001",
                           "00000000-0000-4000-8000-000000000002" };
    bool dup [2];
    CHECK_INT (dupes_mark (ids, 2, dup), 0);
    CHECK (!dup [0] && !dup [1]);
}

TEST (test_later_repeats_are_marked_not_the_first)
{
    const char *ids [] = { "AAAAAAAA-0000-4000-8000-000000000001",
                           "00000000-0000-4000-8000-000000000002",
                           "aaaaaaaa-0000-4000-8000-000000000001",
                           "00000000-0000-4000-8000-000000000002",
                           "00000000-0000-4000-8000-000000000002" };
    bool dup [5];
    CHECK_INT (dupes_mark (ids, 5, dup), 3);
    CHECK (!dup [0] && !dup [1] && dup [2] && dup [3] && dup [4]);
}

TEST (test_ids_that_share_a_prefix_are_still_told_apart)
{
    //  Many ids equal in their first half: the hash must mix both halves.
    enum { N = 20000 };
    static char text [N][37];
    static const char *ids [N];
    static bool dup [N];
    for (int i = 0; i < N; i++) {
        snprintf (text [i], sizeof text [i], "00000000-0000-4000-8000-%012d", i % (N / 2));
        ids [i] = text [i];
    }
    CHECK_INT (dupes_mark (ids, N, dup), N / 2);
    for (int i = 0; i < N; i++)
        CHECK (dup [i] == (i >= N / 2));
}

TEST (test_an_empty_list_has_no_duplicates)
{
    bool dup [1];
    CHECK_INT (dupes_mark (NULL, 0, dup), 0);
}

TEST_MAIN ("worker_dupes",
    T (test_no_duplicates_marks_nothing),
    T (test_later_repeats_are_marked_not_the_first),
    T (test_ids_that_share_a_prefix_are_still_told_apart),
    T (test_an_empty_list_has_no_duplicates))
