/* weft-timer-heap-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _WeftTimer WeftTimer;

/* Embedded in whatever sleeps, so arming a timer allocates nothing. */
struct _WeftTimer
{
  gint64 deadline;      /* monotonic µs */
  guint  heap_index;    /* position in the heap + 1, 0 when not armed */
};

typedef struct
{
  gint64     deadline;  /* a copy: comparisons never leave the array */
  WeftTimer *timer;
} WeftTimerHeapEntry;

typedef struct
{
  WeftTimerHeapEntry *entries;
  guint               len;
  guint               allocated;
} WeftTimerHeap;

void       weft_timer_heap_init   (WeftTimerHeap *heap);
void       weft_timer_heap_clear  (WeftTimerHeap *heap);
void       weft_timer_heap_insert (WeftTimerHeap *heap,
                                   WeftTimer     *timer);
void       weft_timer_heap_remove (WeftTimerHeap *heap,
                                   WeftTimer     *timer);
WeftTimer *weft_timer_heap_pop    (WeftTimerHeap *heap);

static inline WeftTimer *
weft_timer_heap_peek (const WeftTimerHeap *heap)
{
  return heap->len > 0 ? heap->entries[0].timer : NULL;
}

static inline gboolean
weft_timer_is_armed (const WeftTimer *timer)
{
  return timer->heap_index != 0;
}

G_END_DECLS
