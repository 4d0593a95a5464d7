/*  fuzz_frames: turns a fuzzer's bytes into a multi-frame zmsg_t, the way a ZeroMQ socket
    would hand one to a decoder. Shared by every proto harness.

    Input format: a sequence of frames, each a length then its bytes.
      L (1 byte, 0..254)          then L bytes
      0xFF  H  L  (3 bytes)        then (H << 8 | L) bytes: frames of 255 bytes and more
    A length past the end of the input takes what is left. At most FUZZ_FRAMES_MAX
    frames; the rest of the input is ignored (a socket could deliver more, but every
    decoder rejects anything over MDP_BODY_FRAMES_MAX + a few header frames).  */
#ifndef TESTS_FUZZ_FRAMES_H
#define TESTS_FUZZ_FRAMES_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_FRAMES_MAX 80

static inline zmsg_t *
fuzz_frames (const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    size_t i = 0;
    int frames = 0;
    while (i < size && frames < FUZZ_FRAMES_MAX) {
        size_t len = data [i++];
        if (len == 0xff) {
            len = 0;
            if (i < size)
                len = (size_t) data [i++] << 8;
            if (i < size)
                len |= data [i++];
        }
        if (len > size - i)
            len = size - i;
        zmsg_addmem (msg, data + i, len);
        i += len;
        frames++;
    }
    return msg;
}

//  True when two frames hold the same bytes.
static inline int
fuzz_frame_eq (zframe_t *a, zframe_t *b)
{
    return a && b && zframe_size (a) == zframe_size (b)
        && (zframe_size (a) == 0 || memcmp (zframe_data (a), zframe_data (b), zframe_size (a)) == 0);
}

//  True when two messages hold the same frames in the same order.
static inline int
fuzz_msg_eq (zmsg_t *a, zmsg_t *b)
{
    if (zmsg_size (a) != zmsg_size (b))
        return 0;
    for (zframe_t *fa = zmsg_first (a), *fb = zmsg_first (b); fa;
         fa = zmsg_next (a), fb = zmsg_next (b))
        if (!fuzz_frame_eq (fa, fb))
            return 0;
    return 1;
}

//  A broken invariant: libFuzzer records the input as a crash.
#define FUZZ_CHECK(cond) do { if (!(cond)) { \
    fprintf (stderr, "fuzz: %s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
    abort (); } } while (0)

#endif
