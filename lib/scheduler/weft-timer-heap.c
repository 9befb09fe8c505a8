/* weft-timer-heap.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-timer-heap-private.h"

/* A binary min-heap on deadline. Each timer knows its index so that
 * disarming one (a cancelled sleep) is O(log n) rather than a search.
 */

void
weft_timer_heap_init (WeftTimerHeap *heap)
{
  heap->nodes = NULL;
  heap->len = 0;
  heap->allocated = 0;
}

void
weft_timer_heap_clear (WeftTimerHeap *heap)
{
  for (guint i = 1; i <= heap->len; i++)
    heap->nodes[i]->heap_index = 0;
  g_clear_pointer (&heap->nodes, g_free);
  heap->len = 0;
  heap->allocated = 0;
}

static inline void
place (WeftTimerHeap *heap,
       guint          index,
       WeftTimer     *timer)
{
  heap->nodes[index] = timer;
  timer->heap_index = index;
}

static void
sift_up (WeftTimerHeap *heap,
         guint          index)
{
  WeftTimer *timer = heap->nodes[index];

  while (index > 1)
    {
      guint parent = index / 2;

      if (heap->nodes[parent]->deadline <= timer->deadline)
        break;
      place (heap, index, heap->nodes[parent]);
      index = parent;
    }
  place (heap, index, timer);
}

static void
sift_down (WeftTimerHeap *heap,
           guint          index)
{
  WeftTimer *timer = heap->nodes[index];

  for (;;)
    {
      guint child = index * 2;

      if (child > heap->len)
        break;
      if (child < heap->len && heap->nodes[child + 1]->deadline < heap->nodes[child]->deadline)
        child++;
      if (timer->deadline <= heap->nodes[child]->deadline)
        break;
      place (heap, index, heap->nodes[child]);
      index = child;
    }
  place (heap, index, timer);
}

void
weft_timer_heap_insert (WeftTimerHeap *heap,
                        WeftTimer     *timer)
{
  g_assert (timer->heap_index == 0);

  if (heap->len + 1 >= heap->allocated)
    {
      heap->allocated = MAX (64, heap->allocated * 2);
      heap->nodes = g_renew (WeftTimer *, heap->nodes, heap->allocated);
    }
  heap->len++;
  place (heap, heap->len, timer);
  sift_up (heap, heap->len);
}

void
weft_timer_heap_remove (WeftTimerHeap *heap,
                        WeftTimer     *timer)
{
  guint index = timer->heap_index;
  WeftTimer *last;

  g_assert (index >= 1 && index <= heap->len && heap->nodes[index] == timer);

  timer->heap_index = 0;
  last = heap->nodes[heap->len--];
  if (last == timer)
    return;

  place (heap, index, last);
  if (index > 1 && heap->nodes[index / 2]->deadline > last->deadline)
    sift_up (heap, index);
  else
    sift_down (heap, index);
}

WeftTimer *
weft_timer_heap_pop (WeftTimerHeap *heap)
{
  WeftTimer *top = weft_timer_heap_peek (heap);

  if (top != NULL)
    weft_timer_heap_remove (heap, top);
  return top;
}
