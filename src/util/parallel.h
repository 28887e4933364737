/* Work spread over firn's threads: a fork-join loop on one process-wide
 * pool, in which the calling thread takes part. Internal. */
#ifndef FIRN_UTIL_PARALLEL_H
#define FIRN_UTIL_PARALLEL_H

#include <stddef.h>

/* Runs fn(arg, i, slot) once for every i in [0, n), on up to
 * min(firn_get_threads(), max_slots) threads at once (the caller one of
 * them), and returns when all n have run. slot, in [0, that), names the thread
 * running the call: no two calls run at once with the same slot, so
 * per-slot state needs no lock. Which i runs on which slot, and in what
 * order, is not fixed: fn must give the same result whatever they are.
 * With one thread (or n < 2) everything runs on the caller, in order,
 * slot 0. Safe to call from inside fn (the caller works, so the nested
 * loop finishes even when the pool is busy). */
void firn_par__for(size_t n, int max_slots, void (*fn)(void *arg, size_t i, int slot), void *arg);

/* Runs fn(arg, i, slot) for every i in [0, n) on up to width threads at
 * once (the caller one of them, slot 0), started for the call and joined
 * before it returns: for work that waits (requests to a remote store)
 * rather than computes, where more at once than cores pays. Threads that
 * cannot be started leave their share to the others. */
void firn_par__io(size_t n, int width, void (*fn)(void *arg, size_t i, int slot), void *arg);

#endif
