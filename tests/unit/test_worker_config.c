/*  Unit tests for workers/config: the settings' defaults and ranges, read from the
    environment.  */
#include "testing.h"
#include "../../workers/config.h"

TEST (test_credit_defaults_to_8)
{
    unsetenv ("WORKER_CREDIT");
    int credit = 0;
    CHECK_INT (config_credit_read (&credit), 0);
    CHECK_INT (credit, WORKER_CREDIT_DEFAULT);
    CHECK_INT (credit, 8);
}

TEST (test_credit_takes_1_to_64)
{
    const char *good [] = { "1", "2", "64" };
    const int want [] = { 1, 2, 64 };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        setenv ("WORKER_CREDIT", good [i], 1);
        int credit = 0;
        CHECK_INT (config_credit_read (&credit), 0);
        CHECK_INT (credit, want [i]);
    }
    unsetenv ("WORKER_CREDIT");
}

TEST (test_credit_out_of_range_or_not_a_number_is_refused)
{
    const char *bad [] = { "0", "65", "-1", "eight", " 8", "8 ", "8x", "1e1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        setenv ("WORKER_CREDIT", bad [i], 1);
        int credit = 5;
        if (config_credit_read (&credit) != -1 || credit != 5) {
            fprintf (stderr, "  WORKER_CREDIT=\"%s\" was taken as %d\n", bad [i], credit);
            s_test_failed_checks++;
        }
    }
    unsetenv ("WORKER_CREDIT");
}

TEST_MAIN ("worker_config",
    T (test_credit_defaults_to_8),
    T (test_credit_takes_1_to_64),
    T (test_credit_out_of_range_or_not_a_number_is_refused),
)
