/*  event: the hub event codec, the one definition of a job event as workers publish it to
    the progress hub's XSUB and any SUB reads it off its XPUB (proto/README.md, "Hub").
    Exactly two frames:

      topic  jobs.<name>.<jobId>                      name from EVENT_KINDS, jobId a uuid
      event  {"event":"jobs:<name>","data":<job>}     the job as GET /api/jobs/:id, no items

    The kinds are one table, EVENT_KINDS: the enum, the name in both frames, whether the
    event ends its job and the job status it announces all come from it.  */
#ifndef PROTO_EVENT_H
#define PROTO_EVENT_H

#include <czmq.h>
#include <stdbool.h>
#include "../common/uuid.h"

//  Bounds every decoder enforces; anything larger is malformed.
#define EVENT_FRAMES        2
#define EVENT_TOPIC_MAX     64              //  "jobs." name "." uuid is at most 51 bytes
#define EVENT_BODY_MAX      (64 * 1024)     //  a job is < 1 KiB; its error text is bounded too
#define EVENT_SEQ_MAX       9007199254740991LL  //  2^53 - 1: exact in every JSON reader

//  X (enum, name, final, status): final events end their job; status is the job status
//  (proto/vocab.h) an event of that kind carries, so a job's state names its event.
#define EVENT_KINDS(X) \
    X (EVENT_CREATED,   "created",   false, "queued")    \
    X (EVENT_PROGRESS,  "progress",  false, "running")   \
    X (EVENT_COMPLETED, "completed", true,  "completed") \
    X (EVENT_FAILED,    "failed",    true,  "failed")    \
    X (EVENT_CANCELED,  "canceled",  true,  "canceled")

typedef enum {
#define EVENT_ENUM_(kind, name, final, status) kind,
    EVENT_KINDS (EVENT_ENUM_)
#undef EVENT_ENUM_
    EVENT_KINDS_N
} event_kind_t;

const char *event_kind_name (event_kind_t kind);    //  "created", ...; "?" for no kind
bool event_kind_final (event_kind_t kind);
//  The kind that announces a job in that status ("running": EVENT_PROGRESS); EVENT_KINDS_N
//  for NULL or any other text.
event_kind_t event_kind_of_status (const char *status);

//  What a decoder learns from an event besides its text, which stays the caller's.
typedef struct {
    event_kind_t kind;
    char job_id [UUID_STRLEN + 1];          //  lower case, so one job is one key
    char created_by [UUID_STRLEN + 1];      //  data.createdBy, lower case
    long long processed;                    //  data.processed, -1 when absent
    long long seq;                          //  data.seq, -1 when absent (see event_decode)
} event_info_t;

//  The two frames of one event. job_json is the job object's text; it comes from our own
//  database, so it is not parsed again here (the hub's decoder checks it). NULL for an
//  unknown kind, a job_id that is not a uuid, or an event over EVENT_BODY_MAX.
zmsg_t *event_encode (event_kind_t kind, const char *job_id, const char *job_json);

//  Validates one event: EVENT_FRAMES frames, the topic's shape, the body a JSON object
//  whose "event" names the topic's kind and whose "data" is an object with "id" the
//  topic's uuid, "createdBy" a uuid, "processed", if there, an integer, and "seq", if
//  there, an integer from 1 to EVENT_SEQ_MAX (the job's sequence number: it grows with
//  every change of the job; our workers always send it). Returns 0 and fills info, or -1
//  with a constant reason in *why ("frame_count", "bad_topic", ...).
//  Keeps no pointer into msg, which stays the caller's.
int event_decode (zmsg_t *msg, event_info_t *info, const char **why);
//  The same for the two frames' bytes (NULL for a missing frame).
int event_decode_frames (const void *topic, size_t topic_len, const void *body, size_t body_len,
                         event_info_t *info, const char **why);

#endif
