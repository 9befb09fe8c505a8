/* weft-spinlock-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* For critical sections a few stores long that another thread only rarely
 * contends: taking it is one atomic exchange, releasing it a plain store.
 * Being made of C11 atomics, ThreadSanitizer sees it, which it does not
 * GLib's futex-based GMutex.
 */
typedef int WeftSpinlock;

static inline void
weft_spinlock_lock (WeftSpinlock *lock)
{
  while (G_UNLIKELY (__atomic_exchange_n (lock, 1, __ATOMIC_ACQUIRE)))
    {
      while (__atomic_load_n (lock, __ATOMIC_RELAXED))
        g_thread_yield ();
    }
}

static inline void
weft_spinlock_unlock (WeftSpinlock *lock)
{
  __atomic_store_n (lock, 0, __ATOMIC_RELEASE);
}

G_END_DECLS
