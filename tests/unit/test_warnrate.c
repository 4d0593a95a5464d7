/*  test_warnrate: a budget of warn lines per second, the rest counted.  */
#include "../../common/warnrate.h"
#include "../../common/log.h"
#include "testing.h"

TEST (test_lines_beyond_the_budget_are_counted_until_the_second_is_over)
{
    warnrate_t w = { .window = 1000 };
    int allowed = 0;
    for (int i = 0; i < WARNRATE_LINES_PER_S + 5; i++)
        allowed += warnrate_allowed (&w, 1500, 0);
    CHECK_INT (allowed, WARNRATE_LINES_PER_S);
    CHECK_INT (w.suppressed, 5);
    //  Within the second, a flush keeps the count; after it, the count is logged and reset.
    warnrate_flush (&w, 1999, 15);
    CHECK_INT (w.suppressed, 5);
    warnrate_flush (&w, 2000, 15);
    CHECK_INT (w.suppressed, 0);
    CHECK_INT (w.window, 2000);
    CHECK (warnrate_allowed (&w, 2001, 16));
}

int
main (void)
{
    log_set_level (LOG_ERROR);
    static const test_case_t cases [] = {
        T (test_lines_beyond_the_budget_are_counted_until_the_second_is_over),
    };
    return test_run_all ("warnrate", cases, sizeof cases / sizeof cases [0]);
}
