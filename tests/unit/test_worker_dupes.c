/*  Unit tests for workers/dupes: which ids of a job repeat an earlier one.  */
#include "testing.h"
#include "../../common/uuid.h"
#include "../../workers/dupes.h"

#include <stdio.h>
#include <stdlib.h>

//  The 16-byte form of n text ids, as the edge sends them.
static unsigned char *
s_bytes (const char *const *text, size_t n)
{
    unsigned char *ids = (unsigned char *) malloc (16 * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        if (uuid_to_bytes (text [i], UUID_STRLEN, ids + 16 * i))
            abort ();
    return ids;
}

TEST (test_no_duplicates_marks_nothing)
{
    const char *text [] = { "00000000-0000-4000-8000-000000000001",
                            "00000000-0000-4000-8000-000000000002" };
    unsigned char *ids = s_bytes (text, 2);
    bool dup [2];
    CHECK_INT (dupes_mark (ids, 2, dup), 0);
    CHECK (!dup [0] && !dup [1]);
    free (ids);
}

TEST (test_later_repeats_are_marked_not_the_first)
{
    const char *text [] = { "AAAAAAAA-0000-4000-8000-000000000001",
                            "00000000-0000-4000-8000-000000000002",
                            "aaaaaaaa-0000-4000-8000-000000000001",
                            "00000000-0000-4000-8000-000000000002",
                            "00000000-0000-4000-8000-000000000002" };
    unsigned char *ids = s_bytes (text, 5);
    bool dup [5];
    CHECK_INT (dupes_mark (ids, 5, dup), 3);
    CHECK (!dup [0] && !dup [1] && dup [2] && dup [3] && dup [4]);
    free (ids);
}

TEST (test_ids_that_share_a_prefix_are_still_told_apart)
{
    //  Many ids equal in their first half: the hash must mix both halves.
    enum { N = 20000 };
    static char text [N][37];
    static const char *ptr [N];
    static bool dup [N];
    for (int i = 0; i < N; i++) {
        snprintf (text [i], sizeof text [i], "00000000-0000-4000-8000-%012d", i % (N / 2));
        ptr [i] = text [i];
    }
    unsigned char *ids = s_bytes (ptr, N);
    CHECK_INT (dupes_mark (ids, N, dup), N / 2);
    for (int i = 0; i < N; i++)
        CHECK (dup [i] == (i >= N / 2));
    free (ids);
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
