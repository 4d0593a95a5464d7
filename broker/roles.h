/*  roles: what each CurveZMQ role (common/curve.h) may ask of the broker. With CURVE on,
    every peer has one, given by our ZAP handler from the operator's allow directory.
    7/MDP trusts whoever speaks it; these checks are what stop a monitoring key from
    registering as a worker or acting for a user.  */
#ifndef BROKER_ROLES_H
#define BROKER_ROLES_H

#include "../common/curve.h"
#include "../proto/mdp.h"

//  Why a client request (decoded at the broker) from a peer of role may not go on, or NULL.
//  Only with CURVE on: without it, 7/MDP as it was.
const char *roles_client_refusal (const mdp_msg_t *m, curve_role_t role);

#endif
