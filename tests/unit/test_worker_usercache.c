/*  Unit tests for workers/usercache: the bounded cache of users' roles.  */
#include "testing.h"
#include "../../workers/usercache.h"

TEST (test_user_cache_never_grows_past_its_capacity)
{
    usercache_t *cache = usercache_new (4, 2000);
    char id [UUID_STRLEN + 1];
    for (int i = 0; i < 10; i++) {
        snprintf (id, sizeof id, "00000000-0000-0000-0000-%012d", i);
        usercache_put (cache, id, SVC_ROLE_AGENT, 0);
    }
    CHECK_INT (usercache_size (cache), 4);
    //  The oldest were evicted, the newest kept.
    CHECK_INT (usercache_get (cache, "00000000-0000-0000-0000-000000000000", 1), SVC_ROLE_NONE);
    CHECK_INT (usercache_get (cache, "00000000-0000-0000-0000-000000000009", 1), SVC_ROLE_AGENT);
    usercache_destroy (&cache);
    CHECK (cache == NULL);
}

TEST (test_user_cache_entries_expire_after_ttl)
{
    usercache_t *cache = usercache_new (8, 2000);
    const char *id = "8CEF46F1-1309-4F36-A4A3-28DD803B9DA0";
    usercache_put (cache, id, SVC_ROLE_ADMIN, 1000);
    CHECK_INT (usercache_get (cache, "8cef46f1-1309-4f36-a4a3-28dd803b9da0", 2999), SVC_ROLE_ADMIN);
    CHECK_INT (usercache_get (cache, id, 3000), SVC_ROLE_NONE);
    usercache_put (cache, "not-a-uuid", SVC_ROLE_ADMIN, 1000);
    CHECK_INT (usercache_size (cache), 1);
    usercache_destroy (&cache);
}

TEST (test_a_forgotten_user_is_a_miss_until_put_again_and_others_stay)
{
    usercache_t *cache = usercache_new (8, 2000);
    const char *a = "8cef46f1-1309-4f36-a4a3-28dd803b9da0", *b = "1cef46f1-1309-4f36-a4a3-28dd803b9da1";
    usercache_put (cache, a, SVC_ROLE_ADMIN, 1000);
    usercache_put (cache, b, SVC_ROLE_AGENT, 1000);
    usercache_forget (cache, "8CEF46F1-1309-4F36-A4A3-28DD803B9DA0");
    CHECK_INT (usercache_get (cache, a, 1001), SVC_ROLE_NONE);
    CHECK_INT (usercache_get (cache, b, 1001), SVC_ROLE_AGENT);
    usercache_put (cache, a, SVC_ROLE_AGENT, 1002);
    CHECK_INT (usercache_get (cache, a, 1003), SVC_ROLE_AGENT);
    usercache_forget (cache, "not-a-uuid");
    usercache_forget_all (cache);
    CHECK_INT (usercache_get (cache, a, 1004), SVC_ROLE_NONE);
    CHECK_INT (usercache_get (cache, b, 1004), SVC_ROLE_NONE);
    usercache_destroy (&cache);
}

TEST_MAIN ("worker_usercache",
    T (test_user_cache_never_grows_past_its_capacity),
    T (test_user_cache_entries_expire_after_ttl),
    T (test_a_forgotten_user_is_a_miss_until_put_again_and_others_stay))
