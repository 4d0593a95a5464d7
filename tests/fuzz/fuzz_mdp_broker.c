/*  fuzz_mdp_broker: 7/MDP frames as the broker reads them, through mdp_msg_decode.  */
#define FUZZ_MDP_SIDE MDP_AT_BROKER
#include "fuzz_mdp.h"
