/*  Unit tests for broker/config: the broker's settings from the environment.  */
#include "../../broker/config.h"
#include "../../proto/mdp.h"
#include "testing.h"

static void
s_clean_env (void)
{
    const char *names [] = { "BROKER_ENDPOINT", "HEARTBEAT_MS", "BROKER_QUEUE_MAX",
                             "BROKER_REQUEST_TTL_MS", "BROKER_DRAIN_MS", "BROKER_BULK_RESERVE",
                             "BROKER_HELD_BYTES", "CURVE_SERVER_CERT", "CURVE_ALLOW_DIR",
                             "BROKER_BIND", "ZMQ_INSECURE_BIND", "BROKER_UNOFFERED_MS" };
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++)
        unsetenv (names [i]);
}

TEST (test_an_empty_environment_gives_the_documented_defaults)
{
    s_clean_env ();
    broker_config_t cfg;
    CHECK_INT (broker_config_load (&cfg), 0);
    CHECK_STR (cfg.endpoint, "tcp://127.0.0.1:5555");
    CHECK_STR (cfg.bind, "tcp://127.0.0.1:5555");
    CHECK_INT (cfg.queue_max, 10000);
    CHECK_INT (cfg.request_ttl_ms, 10000);
    CHECK_INT (cfg.unoffered_ms, 3000);
    CHECK_INT (cfg.drain_ms, BROKER_DRAIN_MS);
    CHECK_INT (cfg.bulk_reserve, 1);
    CHECK_INT (cfg.held_bytes_max, 256L * 1024 * 1024);
}

TEST (test_held_bytes_never_fall_below_one_largest_frame)
{
    s_clean_env ();
    setenv ("BROKER_HELD_BYTES", "1048576", 1);
    broker_config_t cfg;
    CHECK_INT (broker_config_load (&cfg), 0);
    CHECK (cfg.held_bytes_max >= MDP_MSG_MAX_BYTES);
    s_clean_env ();
}

TEST (test_a_value_out_of_range_is_refused)
{
    s_clean_env ();
    setenv ("HEARTBEAT_MS", "50", 1);
    broker_config_t cfg;
    CHECK_INT (broker_config_load (&cfg), -1);
    s_clean_env ();
}

//  Other hosts may reach a bind on any but a loopback address: not without CurveZMQ.
TEST (test_a_bind_beyond_loopback_needs_curve_or_a_private_network)
{
    s_clean_env ();
    broker_config_t cfg;
    const char *local [] = { "tcp://127.0.0.1:1", "tcp://127.9.9.9:1", "tcp://localhost:1",
                             "tcp://lo:1", "tcp://[::1]:1", "ipc:///tmp/b", "inproc://b" };
    for (size_t i = 0; i < sizeof local / sizeof local [0]; i++) {
        setenv ("BROKER_BIND", local [i], 1);
        CHECK_INT (broker_config_load (&cfg), 0);
        CHECK_STR (cfg.bind, local [i]);
    }
    const char *wide [] = { "tcp://*:1", "tcp://0.0.0.0:1", "tcp://10.0.0.5:1", "tcp://eth0:1",
                            "tcp://127.0.0.1.example.com:1", "tcp://[::]:1" };
    for (size_t i = 0; i < sizeof wide / sizeof wide [0]; i++) {
        setenv ("BROKER_BIND", wide [i], 1);
        CHECK_INT (broker_config_load (&cfg), -1);
        setenv ("ZMQ_INSECURE_BIND", "yes", 1);
        CHECK_INT (broker_config_load (&cfg), 0);
        unsetenv ("ZMQ_INSECURE_BIND");
    }
    s_clean_env ();
}

TEST_MAIN ("broker_config",
    T (test_an_empty_environment_gives_the_documented_defaults),
    T (test_held_bytes_never_fall_below_one_largest_frame),
    T (test_a_value_out_of_range_is_refused),
    T (test_a_bind_beyond_loopback_needs_curve_or_a_private_network))
