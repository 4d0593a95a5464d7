/*  fuzz_svc_reply: the reply envelope (rid, status, payload) as the edge reads it from an
    MDP body, through svc_reply_decode. An accepted reply has a valid rid and a status in
    100..599, and encodes back to the same frames.  */
#include "../../proto/svc.h"
#include "fuzz_frames.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmsg_t *body = fuzz_frames (data, size);
    char err [256] = "";
    svc_reply_t *rep = svc_reply_decode (&body, err, sizeof err);
    FUZZ_CHECK (body == NULL);
    if (!rep) {
        FUZZ_CHECK (err [0] != 0);
        return 0;
    }
    FUZZ_CHECK (svc_rid_valid (rep->rid, strlen (rep->rid)));
    FUZZ_CHECK (rep->status >= 100 && rep->status <= 599);
    FUZZ_CHECK (rep->payload != NULL);

    zmsg_t *again = svc_reply_encode (rep->rid, rep->status,
                                      (const char *) zframe_data (rep->payload),
                                      zframe_size (rep->payload));
    svc_reply_t *rep2 = svc_reply_decode (&again, err, sizeof err);
    FUZZ_CHECK (rep2 != NULL);
    FUZZ_CHECK (strcmp (rep->rid, rep2->rid) == 0 && rep->status == rep2->status);
    FUZZ_CHECK (fuzz_frame_eq (rep->payload, rep2->payload));
    svc_reply_destroy (&rep2);
    svc_reply_destroy (&rep);
    return 0;
}
