/*  Unit tests for http-edge/idlist: a job body's ids stored as 16 bytes each, every
    element counted, the bad ones indexed.  */
#include "../../http-edge/idlist.h"
#include "../../common/uuid.h"
#include "testing.h"

#define ID1 "6f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6b"
#define ID2 "6F1C2B8E-4A3D-4E5F-9A7B-1C2D3E4F5A6C"

TEST (test_valid_ids_are_stored_as_their_bytes_in_order)
{
    idlist_t *list = idlist_new (10);
    idlist_element (list, 1);
    CHECK_INT (idlist_put (list, ID1), 1);
    idlist_element (list, 1);
    CHECK_INT (idlist_put (list, ID2), 1);
    size_t n = 0;
    unsigned char *ids = idlist_take (list, &n);
    unsigned char want [16];
    CHECK_INT (n, 2);
    uuid_to_bytes (ID2, UUID_STRLEN, want);
    CHECK (!memcmp (ids + 16, want, 16));
    free (ids);
    CHECK (idlist_take (list, &n) == NULL);
    CHECK_INT (n, 0);
    idlist_destroy (&list);
    CHECK (list == NULL);
}

TEST (test_bad_elements_are_indexed_by_their_place_among_all_elements)
{
    idlist_t *list = idlist_new (10);
    idlist_element (list, 1);
    CHECK_INT (idlist_put (list, ID1), 1);
    idlist_element (list, 0);                   //  a number
    idlist_element (list, 1);
    CHECK_INT (idlist_put (list, "6f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6z"), 0);
    idlist_bad (list);
    CHECK_INT (idlist_count (list), 3);
    CHECK_INT (idlist_bad_count (list), 2);
    CHECK_INT (idlist_bad_index (list, 0), 1);
    CHECK_INT (idlist_bad_index (list, 1), 2);
    CHECK (idlist_bad_index (list, 2) == (size_t) -1);
    idlist_destroy (&list);
}

TEST (test_only_the_first_bad_indexes_are_kept_but_all_are_counted)
{
    idlist_t *list = idlist_new (10);
    for (int i = 0; i < IDLIST_BAD_MAX + 5; i++)
        idlist_element (list, 0);
    CHECK_INT (idlist_bad_count (list), IDLIST_BAD_MAX + 5);
    CHECK_INT (idlist_bad_index (list, IDLIST_BAD_MAX - 1), IDLIST_BAD_MAX - 1);
    CHECK (idlist_bad_index (list, IDLIST_BAD_MAX) == (size_t) -1);
    idlist_destroy (&list);
}

TEST (test_ids_beyond_max_are_checked_not_stored)
{
    idlist_t *list = idlist_new (1);
    CHECK_INT (idlist_put (list, ID1), 1);
    size_t held = idlist_memory (list);
    CHECK_INT (idlist_put (list, ID2), 1);
    CHECK_INT (idlist_put (list, "not-a-uuid-not-a-uuid-not-a-uuid-123"), 0);
    CHECK_INT (idlist_memory (list), held);
    size_t n = 0;
    unsigned char *ids = idlist_take (list, &n);
    CHECK_INT (n, 1);
    free (ids);
    idlist_destroy (&list);
    idlist_destroy (&list);                     //  harmless twice
}

TEST_MAIN ("edge_idlist",
    T (test_valid_ids_are_stored_as_their_bytes_in_order),
    T (test_bad_elements_are_indexed_by_their_place_among_all_elements),
    T (test_only_the_first_bad_indexes_are_kept_but_all_are_counted),
    T (test_ids_beyond_max_are_checked_not_stored))
