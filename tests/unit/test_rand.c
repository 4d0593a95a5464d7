/*  Unit tests for common/rand: ids are well-formed, never repeat, and show no pattern a
    client could extrapolate from one it was shown.  */
#include "testing.h"
#include "common/rand.h"

#include <ctype.h>

TEST (test_rand_id_is_32_lower_case_hex_digits)
{
    char id [RAND_ID_STRLEN + 1];
    rand_id (id);
    CHECK_INT (strlen (id), 32);
    for (size_t i = 0; i < RAND_ID_STRLEN; i++)
        CHECK (isxdigit ((unsigned char) id [i]) && !isupper ((unsigned char) id [i]));
}

TEST (test_rand_ids_never_repeat_and_consecutive_ones_share_no_prefix)
{
    //  A counter or a fixed prefix would show here: two ids in a row sharing their first
    //  6 hex digits happens by chance once in 16 million pairs.
    enum { N = 20000 };
    static char ids [N][RAND_ID_STRLEN + 1];
    for (size_t i = 0; i < N; i++)
        rand_id (ids [i]);
    for (size_t i = 1; i < N; i++)
        CHECK (strncmp (ids [i - 1], ids [i], 6) != 0);
    //  Sorted neighbours equal would be a repeat.
    qsort (ids, N, sizeof ids [0], (int (*) (const void *, const void *)) strcmp);
    for (size_t i = 1; i < N; i++)
        CHECK (strcmp (ids [i - 1], ids [i]) != 0);
}

TEST (test_rand_bytes_across_pool_refills_are_balanced)
{
    //  1 MiB spans 256 refills of the 4 KiB pool; a pool handed out twice or left zeroed
    //  would move the share of one bits far from half.
    enum { N = 1 << 20 };
    unsigned char *buf = malloc (N);
    CHECK (buf);
    size_t done = 0;
    while (done < N) {
        size_t step = 1 + done % 777;              //  odd sizes cross the pool's edge
        if (step > N - done)
            step = N - done;
        rand_bytes (buf + done, step);
        done += step;
    }
    long ones = 0;
    for (size_t i = 0; i < N; i++)
        ones += __builtin_popcount (buf [i]);
    free (buf);
    double share = (double) ones / (8.0 * N);
    CHECK (share > 0.499 && share < 0.501);
}

TEST_MAIN ("rand",
    T (test_rand_id_is_32_lower_case_hex_digits),
    T (test_rand_ids_never_repeat_and_consecutive_ones_share_no_prefix),
    T (test_rand_bytes_across_pool_refills_are_balanced))
