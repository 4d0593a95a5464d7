/*  Unit tests for workers/pgbin: PostgreSQL's binary array form of our parameters and the
    text form of int[] results.  */
#include "testing.h"
#include "../../workers/pgbin.h"

#include <stdint.h>

static int32_t
s_get32 (const unsigned char *p)
{
    return (int32_t) ((uint32_t) p [0] << 24 | (uint32_t) p [1] << 16 | (uint32_t) p [2] << 8 | p [3]);
}

TEST (test_uuid_array_has_a_one_dimensional_header_and_length_prefixed_ids)
{
    unsigned char ids [32];
    for (int i = 0; i < 32; i++)
        ids [i] = (unsigned char) i;
    unsigned char buf [PGBIN_UUID_ARRAY_SIZE (2)];
    CHECK_INT (pgbin_uuid_array (buf, ids, 2), PGBIN_UUID_ARRAY_SIZE (2));
    CHECK_INT (s_get32 (buf), 1);                   //  ndim
    CHECK_INT (s_get32 (buf + 4), 0);               //  no NULLs
    CHECK_INT (s_get32 (buf + 8), PGBIN_OID_UUID);
    CHECK_INT (s_get32 (buf + 12), 2);              //  length
    CHECK_INT (s_get32 (buf + 16), 1);              //  lower bound
    CHECK_INT (s_get32 (buf + 20), 16);
    CHECK (memcmp (buf + 24, ids, 16) == 0);
    CHECK_INT (s_get32 (buf + 40), 16);
    CHECK (memcmp (buf + 44, ids + 16, 16) == 0);
}

TEST (test_empty_uuid_array_is_only_its_header)
{
    unsigned char buf [PGBIN_ARRAY_HEADER];
    CHECK_INT (pgbin_uuid_array (buf, NULL, 0), PGBIN_ARRAY_HEADER);
    CHECK_INT (s_get32 (buf + 12), 0);
}

TEST (test_mark_array_holds_the_text_where_marked_and_null_elsewhere)
{
    bool marked [3] = { false, true, false };
    unsigned char buf [PGBIN_MARK_ARRAY_SIZE (3, 3)];
    int len = pgbin_mark_array (buf, marked, 3, "dup");
    CHECK_INT (len, PGBIN_ARRAY_HEADER + 4 + 7 + 4);
    CHECK_INT (s_get32 (buf + 4), 1);               //  has NULLs
    CHECK_INT (s_get32 (buf + 8), PGBIN_OID_TEXT);
    CHECK_INT (s_get32 (buf + 12), 3);
    CHECK_INT (s_get32 (buf + 20), -1);
    CHECK_INT (s_get32 (buf + 24), 3);
    CHECK (memcmp (buf + 28, "dup", 3) == 0);
    CHECK_INT (s_get32 (buf + 31), -1);
}

TEST (test_int_next_reads_every_element_of_an_int_array_literal)
{
    int got [4], n = 0, v;
    for (const char *p = "{0,12,345}"; (p = pgbin_int_next (p, &v)) && n < 4; )
        got [n++] = v;
    CHECK_INT (n, 3);
    CHECK_INT (got [0], 0);
    CHECK_INT (got [1], 12);
    CHECK_INT (got [2], 345);
}

TEST (test_int_next_reads_the_plan_chunks_negative_seq)
{
    int v = 0, n = 0, got [3];
    for (const char *p = "{-1}"; (p = pgbin_int_next (p, &v)) && n < 3; )
        got [n++] = v;
    CHECK_INT (n, 1);
    CHECK_INT (got [0], -1);
    n = 0;
    for (const char *p = "{-1,0,-7}"; (p = pgbin_int_next (p, &v)) && n < 3; )
        got [n++] = v;
    CHECK_INT (n, 3);
    CHECK_INT (got [2], -7);
}

TEST (test_int_next_finds_nothing_in_an_empty_array)
{
    int v = 7;
    CHECK (pgbin_int_next ("{}", &v) == NULL);
    CHECK (pgbin_int_next ("", &v) == NULL);
    CHECK_INT (v, 7);
}

TEST (test_int_next_clamps_what_does_not_fit_an_int)
{
    int v = 0;
    CHECK (pgbin_int_next ("{99999999999}", &v) != NULL);
    CHECK_INT (v, 2147483647);
}

TEST_MAIN ("worker_pgbin",
    T (test_uuid_array_has_a_one_dimensional_header_and_length_prefixed_ids),
    T (test_empty_uuid_array_is_only_its_header),
    T (test_mark_array_holds_the_text_where_marked_and_null_elsewhere),
    T (test_int_next_reads_every_element_of_an_int_array_literal),
    T (test_int_next_reads_the_plan_chunks_negative_seq),
    T (test_int_next_finds_nothing_in_an_empty_array),
    T (test_int_next_clamps_what_does_not_fit_an_int),
)
