/*  fuzz_mdp_worker: 7/MDP frames as the worker reads them, through mdp_msg_decode.  */
#define FUZZ_MDP_SIDE MDP_AT_WORKER
#include "fuzz_mdp.h"
