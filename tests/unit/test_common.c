/*  Unit tests for common/: uuid checks and generation, settings parsing, log quoting, the
    cached getpid.  */
#include "testing.h"
#include "common/uuid.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/pidcache.h"

#include <sys/wait.h>
#include <unistd.h>

TEST (test_uuid_accepts_canonical_text)
{
    CHECK (uuid_valid ("123e4567-e89b-12d3-a456-426614174000"));
    CHECK (uuid_valid ("123E4567-E89B-12D3-A456-426614174000"));
}

TEST (test_uuid_rejects_near_misses)
{
    CHECK (!uuid_valid (NULL));
    CHECK (!uuid_valid (""));
    CHECK (!uuid_valid ("123e4567e89b12d3a456426614174000"));
    CHECK (!uuid_valid ("123e4567-e89b-12d3-a456-4266141740000"));
    CHECK (!uuid_valid ("123e4567-e89b-12d3-a456-42661417400"));
    CHECK (!uuid_valid ("123e4567-e89b-12d3-a456_426614174000"));
    CHECK (!uuid_valid ("g23e4567-e89b-12d3-a456-426614174000"));
    CHECK (!uuid_valid ("' OR 1=1 --                         "));
}

TEST (test_uuid_v4_is_valid_versioned_and_unique)
{
    char a [UUID_STRLEN + 1], b [UUID_STRLEN + 1];
    CHECK_INT (uuid_v4 (a), 0);
    CHECK_INT (uuid_v4 (b), 0);
    CHECK (uuid_valid (a));
    CHECK (a [14] == '4');
    CHECK (strchr ("89ab", a [19]) != NULL);
    CHECK (strcmp (a, b) != 0);
}

TEST (test_uuid_bytes_round_trip_in_lower_case)
{
    unsigned char b [16];
    char text [UUID_STRLEN + 1];
    CHECK_INT (uuid_to_bytes ("123E4567-e89b-12d3-A456-426614174000", UUID_STRLEN, b), 0);
    CHECK_INT (b [0], 0x12);
    CHECK_INT (b [15], 0x00);
    CHECK_INT (b [6], 0x12);
    uuid_from_bytes (b, text);
    CHECK_STR (text, "123e4567-e89b-12d3-a456-426614174000");
    CHECK_INT (uuid_to_bytes ("123e4567-e89b-12d3-a456-42661417400g", UUID_STRLEN, b), -1);
    CHECK_INT (uuid_to_bytes ("123e4567e-89b-12d3-a456-426614174000", UUID_STRLEN, b), -1);
    CHECK_INT (uuid_to_bytes ("123e4567-e89b-12d3-a456-426614174000", 35, b), -1);
}

TEST (test_conf_int_takes_default_value_and_bounds)
{
    long v = 0;
    unsetenv ("TEST_CONF_X");
    CHECK_INT (conf_int ("TEST_CONF_X", 7, 1, 10, &v), 0);
    CHECK_INT (v, 7);
    setenv ("TEST_CONF_X", "9", 1);
    CHECK_INT (conf_int ("TEST_CONF_X", 7, 1, 10, &v), 0);
    CHECK_INT (v, 9);
    const char *bad [] = { "11", "0", "abc", "5x", " 5", "99999999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        setenv ("TEST_CONF_X", bad [i], 1);
        CHECK_INT (conf_int ("TEST_CONF_X", 7, 1, 10, &v), -1);
    }
    unsetenv ("TEST_CONF_X");
}

TEST (test_conf_endpoint_rejects_non_zeromq_addresses)
{
    const char *ep = NULL;
    setenv ("TEST_EP", "http://x", 1);
    CHECK_INT (conf_endpoint ("TEST_EP", "tcp://127.0.0.1:1", &ep), -1);
    setenv ("TEST_EP", "ipc:///tmp/x", 1);
    CHECK_INT (conf_endpoint ("TEST_EP", "tcp://127.0.0.1:1", &ep), 0);
    CHECK_STR (ep, "ipc:///tmp/x");
    unsetenv ("TEST_EP");
}

TEST (test_conf_endpoints_takes_a_list_else_the_one_else_the_default)
{
    conf_endpoints_t eps;
    unsetenv ("TEST_EPS");
    unsetenv ("TEST_EP");
    CHECK_INT (conf_endpoints ("TEST_EPS", "TEST_EP", "tcp://127.0.0.1:1", &eps), 0);
    CHECK_INT (eps.n, 1);
    CHECK_STR (conf_endpoints_get (&eps, 0), "tcp://127.0.0.1:1");
    setenv ("TEST_EP", "ipc:///tmp/b", 1);
    CHECK_INT (conf_endpoints ("TEST_EPS", "TEST_EP", "tcp://127.0.0.1:1", &eps), 0);
    CHECK_INT (eps.n, 1);
    CHECK_STR (conf_endpoints_get (&eps, 0), "ipc:///tmp/b");
    setenv ("TEST_EPS", "tcp://10.0.0.5:5555,tcp://10.0.0.6:5555", 1);
    CHECK_INT (conf_endpoints ("TEST_EPS", "TEST_EP", "tcp://127.0.0.1:1", &eps), 0);
    CHECK_INT (eps.n, 2);
    CHECK_STR (conf_endpoints_get (&eps, 0), "tcp://10.0.0.5:5555");
    CHECK_STR (conf_endpoints_get (&eps, 1), "tcp://10.0.0.6:5555");
    conf_endpoints_t copy = eps;
    memset (&eps, 0, sizeof eps);
    CHECK_STR (conf_endpoints_get (&copy, 0), "tcp://10.0.0.5:5555");
    CHECK_STR (conf_endpoints_get (&copy, 1), "tcp://10.0.0.6:5555");
    const char *bad [] = {
        "tcp://a:1,", ",tcp://a:1", "tcp://a:1,,tcp://b:1", "tcp://a:1, tcp://b:1",
        "tcp://a:1,tcp://a:1", "http://a", "tcp://a:1,tcp://b:1,tcp://c:1,tcp://d:1,"
        "tcp://e:1,tcp://f:1,tcp://g:1,tcp://h:1,tcp://i:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        setenv ("TEST_EPS", bad [i], 1);
        CHECK_INT (conf_endpoints ("TEST_EPS", "TEST_EP", "tcp://127.0.0.1:1", &eps), -1);
        CHECK_INT (eps.n, 0);
    }
    unsetenv ("TEST_EPS");
    unsetenv ("TEST_EP");
}

TEST (test_log_quote_escapes_and_truncates)
{
    char buf [16];
    CHECK_STR (log_quote (buf, sizeof buf, "a\"b\\c\nd"), "\"a\\\"b\\\\c?d\"");
    CHECK_STR (log_quote (buf, sizeof buf, "0123456789abcdefghij"), "\"0123456789ab\"");
    CHECK_STR (log_quote (buf, sizeof buf, NULL), "\"\"");
    //  A URL path may carry any byte; the log line stays ASCII.
    CHECK_STR (log_quote (buf, sizeof buf, "/a\xff\xc3\xa9"), "\"/a???\"");
}

//  libzmq's fork guard compares getpid with the pid it saw: a stale cache in a child would
//  make a forked process use its parent's sockets.
TEST (test_cached_getpid_is_the_kernel_pid_in_the_process_and_in_a_forked_child)
{
    pidcache_install ();
    pid_t parent = getpid ();
    CHECK_INT (parent, pidcache_kernel_pid ());
    pid_t child = fork ();
    CHECK (child >= 0);
    if (child == 0)
        _exit (getpid () == pidcache_kernel_pid () && getpid () != parent ? 0 : 1);
    int status = 0;
    CHECK_INT (waitpid (child, &status, 0), child);
    CHECK (WIFEXITED (status));
    CHECK_INT (WEXITSTATUS (status), 0);
    CHECK_INT (getpid (), parent);
}

TEST_MAIN ("common",
    T (test_uuid_accepts_canonical_text),
    T (test_uuid_rejects_near_misses),
    T (test_uuid_v4_is_valid_versioned_and_unique),
    T (test_uuid_bytes_round_trip_in_lower_case),
    T (test_conf_int_takes_default_value_and_bounds),
    T (test_conf_endpoint_rejects_non_zeromq_addresses),
    T (test_conf_endpoints_takes_a_list_else_the_one_else_the_default),
    T (test_log_quote_escapes_and_truncates),
    T (test_cached_getpid_is_the_kernel_pid_in_the_process_and_in_a_forked_child))
