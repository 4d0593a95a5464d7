/*  Unit tests for workers/auth: the login service's pure parts.  */
#include "testing.h"
#include "../../workers/auth.h"

TEST (test_constant_time_compare_matches_strcmp_equality)
{
    CHECK (auth_equal_ct ("$2a$10$abc", "$2a$10$abc"));
    CHECK (!auth_equal_ct ("$2a$10$abc", "$2a$10$abd"));
    CHECK (!auth_equal_ct ("$2a$10$abc", "$2a$10$ab"));
    CHECK (!auth_equal_ct ("", "x"));
}

TEST_MAIN ("worker_auth",
    T (test_constant_time_compare_matches_strcmp_equality))
