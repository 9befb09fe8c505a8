/* weft-timer-heap.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-timer-heap-private.h"

/* A 4-ary min-heap on deadline. The deadlines are copied into the array,
 * so sifting compares contiguous memory instead of chasing a pointer per
 * comparison, and a node's four children share a cache line; with a
 * million sleepers this is what keeps popping cheap. Each timer knows its
 * position, so disarming one (a cancelled sleep) is O(log n) too.
 */

#define ARITY 4

void
weft_timer_heap_init (WeftTimerHeap *heap)
{
  heap->entries = NULL;
  heap->len = 0;
  heap->allocated = 0;
}

void
weft_timer_heap_clear (WeftTimerHeap *heap)
{
  for (guint i = 0; i < heap->len; i++)
    heap->entries[i].timer->heap_index = 0;
  g_clear_pointer (&heap->entries, g_free);
  heap->len = 0;
  heap->allocated = 0;
}

static inline void
place (WeftTimerHeap      *heap,
       guint               index,
       WeftTimerHeapEntry  entry)
{
  heap->entries[index] = entry;
  entry.timer->heap_index = index + 1;
}

static void
sift_up (WeftTimerHeap *heap,
         guint          index)
{
  WeftTimerHeapEntry entry = heap->entries[index];

  while (index > 0)
    {
      guint parent = (index - 1) / ARITY;

      if (heap->entries[parent].deadline <= entry.deadline)
        break;
      place (heap, index, heap->entries[parent]);
      index = parent;
    }
  place (heap, index, entry);
}

static void
sift_down (WeftTimerHeap *heap,
           guint          index)
{
  WeftTimerHeapEntry entry = heap->entries[index];

  for (;;)
    {
      guint first = index * ARITY + 1;
      guint last = MIN (first + ARITY, heap->len);
      guint smallest = index;
      gint64 smallest_deadline = entry.deadline;

      for (guint child = first; child < last; child++)
        if (heap->entries[child].deadline < smallest_deadline)
          {
            smallest = child;
            smallest_deadline = heap->entries[child].deadline;
          }
      if (smallest == index)
        break;
      place (heap, index, heap->entries[smallest]);
      index = smallest;
    }
  place (heap, index, entry);
}

void
weft_timer_heap_insert (WeftTimerHeap *heap,
                        WeftTimer     *timer)
{
  g_assert (timer->heap_index == 0);

  if (heap->len == heap->allocated)
    {
      heap->allocated = MAX (64, heap->allocated * 2);
      heap->entries = g_renew (WeftTimerHeapEntry, heap->entries, heap->allocated);
    }
  heap->entries[heap->len] = (WeftTimerHeapEntry) { timer->deadline, timer };
  sift_up (heap, heap->len++);
}

void
weft_timer_heap_remove (WeftTimerHeap *heap,
                        WeftTimer     *timer)
{
  guint index = timer->heap_index - 1;
  WeftTimerHeapEntry last;

  g_assert (timer->heap_index >= 1 && index < heap->len && heap->entries[index].timer == timer);

  timer->heap_index = 0;
  last = heap->entries[--heap->len];
  if (index == heap->len)
    return;

  place (heap, index, last);
  if (index > 0 && heap->entries[(index - 1) / ARITY].deadline > last.deadline)
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
