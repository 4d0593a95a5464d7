/*  fuzz_mdp_client: 7/MDP frames as the client reads them, through mdp_msg_decode.  */
#define FUZZ_MDP_SIDE MDP_AT_CLIENT
#include "fuzz_mdp.h"
