/*  rfc3339: the forms a created range accepts, and what it refuses before PostgreSQL would.  */
#include "testing.h"
#include "../../common/rfc3339.h"

TEST (test_dates_and_date_times_with_a_zone_are_accepted)
{
    const char *ok [] = { "2026-12-07", "2026-12-07T08:30:00Z", "2026-12-07t08:30:00z",
                          "2026-12-07 08:30:00+01:00", "2026-12-07T08:30:00.123456789-05:30",
                          "2024-02-29", "2000-02-29T23:59:60Z", "0001-01-01" };
    for (size_t i = 0; i < sizeof ok / sizeof ok [0]; i++)
        CHECK (rfc3339_valid (ok [i]));
}

TEST (test_impossible_dates_times_and_other_text_are_refused)
{
    const char *bad [] = { NULL, "", "2026-12-7", "2026-13-01", "2026-00-10", "2026-04-31",
                           "2023-02-29", "1900-02-29", "0000-01-01", "2026-12-07T24:00:00Z",
                           "2026-12-07T08:60:00Z", "2026-12-07T08:30:61Z", "2026-12-07T08:30:00",
                           "2026-12-07T08:30:00.Z", "2026-12-07T08:30:00+1:00",
                           "2026-12-07T08:30:00+01:00x", "2026-12-07X08:30:00Z",
                           "2026-12-07T08:30:00.1234567890123456789Z", "now", "2026-12-07; DROP" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        CHECK (!rfc3339_valid (bad [i]));
}

TEST_MAIN ("rfc3339",
    T (test_dates_and_date_times_with_a_zone_are_accepted),
    T (test_impossible_dates_times_and_other_text_are_refused),
)
