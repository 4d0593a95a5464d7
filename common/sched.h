/*  sched: the CPU scheduling policy every actor runs under. A GET crosses five processes
    (edge, broker, worker and their libzmq I/O threads) on a machine that may have two
    cores; under the kernel's default policy each message wakes its receiver and the
    receiver preempts the sender at once, so every hop runs per message and a request costs
    about three context switches. SCHED_BATCH tells the kernel these threads need no wake-up
    preemption: a woken thread runs when a core is free or at the next tick, by which time
    several messages wait for it, and one wake-up serves them all (docs/BENCHMARKS.md,
    change 18). An idle core still runs a woken thread at once, so a lone request is no
    slower; on cores busy with other programs it waits for the next tick instead of
    preempting them, a few ms a hop. SCHED_POLICY=normal keeps the default policy.  */
#ifndef COMMON_SCHED_H
#define COMMON_SCHED_H

//  Applies SCHED_POLICY (batch, the default, or normal) to the calling thread; threads
//  created after it inherit the policy, so it is called before any exists (libzmq's I/O
//  and reaper threads start with the first socket). 0, a refusal by the kernel logged as a
//  warning; -1, logged, when the value is neither.
int sched_install (void);

#endif
