/*  fuzz_svc_request: the request envelope (rid, auth, payload, [blob]) as a worker reads it from
    an MDP body, through svc_request_decode. An accepted request must hold a valid rid and
    either no user or a uuid with a role, and encode back to the same frames.  */
#include "../../proto/svc.h"
#include "fuzz_frames.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmsg_t *body = fuzz_frames (data, size);
    char err [256] = "";
    svc_request_t *req = svc_request_decode (&body, err, sizeof err);
    FUZZ_CHECK (body == NULL);
    if (!req) {
        FUZZ_CHECK (err [0] != 0);
        return 0;
    }
    FUZZ_CHECK (svc_rid_valid (req->rid, strlen (req->rid)));
    FUZZ_CHECK (req->payload != NULL);
    if (req->user [0]) {
        FUZZ_CHECK (uuid_valid (req->user));
        FUZZ_CHECK (req->role == SVC_ROLE_ADMIN || req->role == SVC_ROLE_AGENT);
    }
    else
        FUZZ_CHECK (req->role == SVC_ROLE_NONE);

    zmsg_t *again = svc_request_encode (req->rid, req->user, req->role,
                                        (const char *) zframe_data (req->payload),
                                        zframe_size (req->payload));
    if (req->blob)
        zmsg_append (again, &(zframe_t *) { zframe_dup (req->blob) });
    svc_request_t *req2 = svc_request_decode (&again, err, sizeof err);
    FUZZ_CHECK (req2 != NULL);
    FUZZ_CHECK (strcmp (req->rid, req2->rid) == 0 && strcmp (req->user, req2->user) == 0);
    FUZZ_CHECK (req->role == req2->role && fuzz_frame_eq (req->payload, req2->payload));
    FUZZ_CHECK ((req->blob == NULL) == (req2->blob == NULL));
    FUZZ_CHECK (!req->blob || fuzz_frame_eq (req->blob, req2->blob));
    svc_request_destroy (&req2);
    svc_request_destroy (&req);
    return 0;
}
