/*  Unit tests for workers/config: the settings' defaults and ranges, read from the
    environment.  */
#include "testing.h"
#include "../../workers/config.h"
#include "../../proto/mdp.h"

#include <unistd.h>

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

TEST (test_name_is_taken_as_given_when_valid)
{
    const char *good [] = { "w", "host-worker-1", "a.b_c:d@e/f-9",
        "0123456789012345678901234567890123456789012345678901234567890123" };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        setenv ("WORKER_NAME", good [i], 1);
        char name [MDP_NAME_MAX + 1] = "";
        CHECK_INT (config_name_read (name), 0);
        CHECK_STR (name, good [i]);
    }
    unsetenv ("WORKER_NAME");
}

TEST (test_a_bad_name_is_refused)
{
    const char *bad [] = { "a b", "a=b", "a\"b", "caf\xc3\xa9", "tab\there", "a,b", "a;b",
        "01234567890123456789012345678901234567890123456789012345678901234" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        setenv ("WORKER_NAME", bad [i], 1);
        char name [MDP_NAME_MAX + 1] = "";
        if (config_name_read (name) != -1) {
            fprintf (stderr, "  WORKER_NAME=\"%s\" was taken as %s\n", bad [i], name);
            s_test_failed_checks++;
        }
    }
    unsetenv ("WORKER_NAME");
}

TEST (test_an_unset_name_is_the_host_and_the_pid)
{
    unsetenv ("WORKER_NAME");
    char name [MDP_NAME_MAX + 1] = "", host [256] = "", want [MDP_NAME_MAX + 1];
    gethostname (host, sizeof host - 1);
    CHECK_INT (config_name_read (name), 0);
    CHECK (mdp_name_valid (name, strlen (name)));
    snprintf (want, sizeof want, "-%ld", (long) getpid ());
    size_t len = strlen (name);
    CHECK (len > strlen (want) && streq (name + len - strlen (want), want));
    //  A usual host name (safe bytes, not too long) is there as it is.
    size_t hlen = strlen (host);
    if (hlen && hlen <= 52 && strspn (host, MDP_NAME_CHARS) == hlen)
        CHECK (strncmp (name, host, hlen) == 0 && name [hlen] == '-');
}

TEST_MAIN ("worker_config",
    T (test_credit_defaults_to_8),
    T (test_credit_takes_1_to_64),
    T (test_credit_out_of_range_or_not_a_number_is_refused),
    T (test_name_is_taken_as_given_when_valid),
    T (test_a_bad_name_is_refused),
    T (test_an_unset_name_is_the_host_and_the_pid),
)
