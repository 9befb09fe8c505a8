/* weft-bounded-semaphore.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-bounded-semaphore.h"
#include "weft-semaphore-private.h"

/**
 * WeftBoundedSemaphore:
 *
 * A #WeftSemaphore that refuses to be released above its initial value:
 * asyncio's BoundedSemaphore. weft_semaphore_release() then fails with
 * %WEFT_ERROR_INVALID_STATE.
 */

struct _WeftBoundedSemaphore
{
  WeftSemaphore parent_instance;
};

G_DEFINE_FINAL_TYPE (WeftBoundedSemaphore, weft_bounded_semaphore, WEFT_TYPE_SEMAPHORE)

static void
weft_bounded_semaphore_class_init (WeftBoundedSemaphoreClass *klass)
{
}

static void
weft_bounded_semaphore_init (WeftBoundedSemaphore *self)
{
}

/**
 * weft_bounded_semaphore_new:
 * @value: the number of free slots, also the most there may be
 *
 * Creates a bounded semaphore.
 *
 * Returns: (transfer full): a new #WeftBoundedSemaphore
 */
WeftSemaphore *
weft_bounded_semaphore_new (guint value)
{
  WeftSemaphore *self = g_object_new (WEFT_TYPE_BOUNDED_SEMAPHORE, NULL);

  weft_semaphore_setup (self, value, TRUE);
  return self;
}
