/* weft-stack-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * WeftStack:
 * @low: the lowest usable address
 * @size: the usable size: the stack is [@low, @low + @size)
 * @map_base: the start of the whole mapping, guard pages included
 * @map_size: the size of the whole mapping
 * @valgrind_id: the stack's registration with Valgrind, if any
 *
 * A fiber stack: an anonymous mapping whose lowest pages are PROT_NONE, so
 * that running off the end faults instead of corrupting the memory below.
 * A zero-filled WeftStack holds nothing.
 */
typedef struct
{
  void   *low;
  size_t  size;
  void   *map_base;
  size_t  map_size;
  guint   valgrind_id;
} WeftStack;

/* The usual life of a fiber's stack:
 *
 *   weft_stack_acquire (&stack, size, &error);
 *   weft_fiber_context_make (&ctx, stack.low, stack.size, entry, arg);
 *
 *   each time the fiber runs:
 *     weft_stack_guard_enter (&stack, name, id);
 *     weft_fiber_context_switch (&thread_ctx, &ctx);
 *     weft_stack_guard_leave ();
 *
 *   once it has left for good (weft_fiber_context_exit()):
 *     weft_stack_release (&stack);
 */
gboolean weft_stack_acquire        (WeftStack       *stack,
                                    size_t           size,
                                    GError         **error);
void     weft_stack_release        (WeftStack       *stack);
void     weft_stack_guard_enter    (const WeftStack *stack,
                                    const char      *task_name,
                                    guint64          task_id);
void     weft_stack_guard_leave    (void);

/* For tests. */
void     weft_stack_set_error      (GError         **error,
                                    size_t           size,
                                    int              errsv);
guint    weft_stack_get_n_pooled   (void);
size_t   weft_stack_get_guard_size (void);

G_END_DECLS
