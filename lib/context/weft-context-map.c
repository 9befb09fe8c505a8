/* weft-context-map.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "weft-context-map-private.h"

/* Five bits of the key per level: 32 slots per node, seven levels at most
 * for a 32-bit key. Keys are unique serial numbers, so two keys always part
 * before the bits run out and no collision nodes are needed.
 */
#define BITS_PER_LEVEL 5
#define LEVEL_MASK     ((1u << BITS_PER_LEVEL) - 1)

struct _WeftContextMap
{
  gatomicrefcount  ref_count;
  guint32          bitmap;         /* slots in use */
  guint32          entrymap;       /* slots in use that hold an entry, not a child node */
  gpointer         slots[];        /* one per bit of bitmap, in bit order */
};

static inline guint
slot_count (const WeftContextMap *node)
{
  return (guint) __builtin_popcount (node->bitmap);
}

static inline guint
slot_position (guint32 bitmap,
               guint32 bit)
{
  return (guint) __builtin_popcount (bitmap & (bit - 1));
}

static inline guint32
key_bit (guint32 key,
         guint   shift)
{
  return 1u << ((key >> shift) & LEVEL_MASK);
}

WeftContextEntry *
weft_context_entry_new (gpointer      var,
                        guint32       key,
                        const GValue *value)
{
  WeftContextEntry *entry = g_new0 (WeftContextEntry, 1);

  g_atomic_ref_count_init (&entry->ref_count);
  entry->key = key;
  entry->var = g_object_ref (var);
  g_value_init (&entry->value, G_VALUE_TYPE (value));
  g_value_copy (value, &entry->value);

  return entry;
}

WeftContextEntry *
weft_context_entry_ref (WeftContextEntry *entry)
{
  g_atomic_ref_count_inc (&entry->ref_count);
  return entry;
}

void
weft_context_entry_unref (WeftContextEntry *entry)
{
  if (!g_atomic_ref_count_dec (&entry->ref_count))
    return;
  g_value_unset (&entry->value);
  g_object_unref (entry->var);
  g_free (entry);
}

WeftContextMap *
weft_context_map_ref (WeftContextMap *map)
{
  if (map != NULL)
    g_atomic_ref_count_inc (&map->ref_count);
  return map;
}

void
weft_context_map_unref (WeftContextMap *map)
{
  guint n;

  if (map == NULL || !g_atomic_ref_count_dec (&map->ref_count))
    return;

  n = slot_count (map);
  for (guint bit = 0, i = 0; i < n; bit++)
    {
      if ((map->bitmap & (1u << bit)) == 0)
        continue;
      if (map->entrymap & (1u << bit))
        weft_context_entry_unref (map->slots[i]);
      else
        weft_context_map_unref (map->slots[i]);
      i++;
    }
  g_free (map);
}

static WeftContextMap *
node_alloc (guint32 bitmap,
            guint32 entrymap)
{
  WeftContextMap *node;

  node = g_malloc (sizeof *node + sizeof (gpointer) * (gsize) __builtin_popcount (bitmap));
  g_atomic_ref_count_init (&node->ref_count);
  node->bitmap = bitmap;
  node->entrymap = entrymap;
  return node;
}

/* Entries and nodes both start with their reference count. */
static inline void
slot_ref (gpointer slot)
{
  g_atomic_ref_count_inc ((gatomicrefcount *) slot);
}

/* A copy of @node sharing every slot but the one at @bit, which holds
 * @slot (an entry if @is_entry) and is added if @node lacks it; the new
 * slot's reference is taken over.
 */
static WeftContextMap *
node_with_slot (const WeftContextMap *node,
                guint32               bit,
                gpointer              slot,
                gboolean              is_entry)
{
  guint32 bitmap = node->bitmap | bit;
  guint32 entrymap = is_entry ? (node->entrymap | bit) : (node->entrymap & ~bit);
  WeftContextMap *copy = node_alloc (bitmap, entrymap);
  guint pos = slot_position (bitmap, bit);
  guint n = slot_count (node);
  gboolean replacing = (node->bitmap & bit) != 0;

  memcpy (copy->slots, node->slots, sizeof (gpointer) * pos);
  copy->slots[pos] = slot;
  if (replacing)
    memcpy (copy->slots + pos + 1, node->slots + pos + 1, sizeof (gpointer) * (n - pos - 1));
  else
    memcpy (copy->slots + pos + 1, node->slots + pos, sizeof (gpointer) * (n - pos));

  for (guint i = 0; i < slot_count (copy); i++)
    if (i != pos)
      slot_ref (copy->slots[i]);

  return copy;
}

/* A copy of @node without the slot at @bit; NULL if that was the last. */
static WeftContextMap *
node_without_slot (const WeftContextMap *node,
                   guint32               bit)
{
  WeftContextMap *copy;
  guint pos = slot_position (node->bitmap, bit);
  guint n = slot_count (node);

  if (n == 1)
    return NULL;

  copy = node_alloc (node->bitmap & ~bit, node->entrymap & ~bit);
  memcpy (copy->slots, node->slots, sizeof (gpointer) * pos);
  memcpy (copy->slots + pos, node->slots + pos + 1, sizeof (gpointer) * (n - pos - 1));
  for (guint i = 0; i < n - 1; i++)
    slot_ref (copy->slots[i]);

  return copy;
}

/* A node holding two entries whose keys agree below @shift. */
static WeftContextMap *
node_pair (WeftContextEntry *a,
           WeftContextEntry *b,
           guint             shift)
{
  guint32 bit_a = key_bit (a->key, shift);
  guint32 bit_b = key_bit (b->key, shift);
  WeftContextMap *node;

  if (bit_a == bit_b)
    {
      node = node_alloc (bit_a, 0);
      node->slots[0] = node_pair (a, b, shift + BITS_PER_LEVEL);
      return node;
    }

  node = node_alloc (bit_a | bit_b, bit_a | bit_b);
  node->slots[bit_a < bit_b ? 0 : 1] = weft_context_entry_ref (a);
  node->slots[bit_a < bit_b ? 1 : 0] = weft_context_entry_ref (b);
  return node;
}

static WeftContextMap *
node_insert (const WeftContextMap *node,
             WeftContextEntry     *entry,
             guint                 shift)
{
  guint32 bit = key_bit (entry->key, shift);
  gpointer slot;

  if ((node->bitmap & bit) == 0)
    return node_with_slot (node, bit, weft_context_entry_ref (entry), TRUE);

  slot = node->slots[slot_position (node->bitmap, bit)];
  if (node->entrymap & bit)
    {
      WeftContextEntry *existing = slot;

      if (existing->key == entry->key)
        return node_with_slot (node, bit, weft_context_entry_ref (entry), TRUE);
      return node_with_slot (node, bit, node_pair (existing, entry, shift + BITS_PER_LEVEL), FALSE);
    }

  return node_with_slot (node, bit, node_insert (slot, entry, shift + BITS_PER_LEVEL), FALSE);
}

/*
 * Returns: (transfer full): a map with @entry bound, replacing the binding
 *   of the same key; @map is unchanged
 */
WeftContextMap *
weft_context_map_insert (WeftContextMap   *map,
                         WeftContextEntry *entry)
{
  if (map == NULL)
    {
      map = node_alloc (key_bit (entry->key, 0), key_bit (entry->key, 0));
      map->slots[0] = weft_context_entry_ref (entry);
      return map;
    }
  return node_insert (map, entry, 0);
}

/* Returns @node itself, referenced, when @key is absent. */
static WeftContextMap *
node_remove (WeftContextMap *node,
             guint32         key,
             guint           shift)
{
  guint32 bit = key_bit (key, shift);
  gpointer slot;
  WeftContextMap *child;

  if ((node->bitmap & bit) == 0)
    return weft_context_map_ref (node);

  slot = node->slots[slot_position (node->bitmap, bit)];
  if (node->entrymap & bit)
    {
      if (((WeftContextEntry *) slot)->key != key)
        return weft_context_map_ref (node);
      return node_without_slot (node, bit);
    }

  child = node_remove (slot, key, shift + BITS_PER_LEVEL);
  if (child == slot)
    {
      /* Absent below: this level is unchanged too. */
      weft_context_map_unref (child);
      return weft_context_map_ref (node);
    }
  if (child == NULL)
    return node_without_slot (node, bit);

  /* A child left with one entry folds back into this level. */
  if (child->bitmap == child->entrymap && slot_count (child) == 1)
    {
      WeftContextEntry *only = weft_context_entry_ref (child->slots[0]);

      weft_context_map_unref (child);
      return node_with_slot (node, bit, only, TRUE);
    }
  return node_with_slot (node, bit, child, FALSE);
}

/*
 * Returns: (transfer full) (nullable): a map without @key; @map is unchanged
 */
WeftContextMap *
weft_context_map_remove (WeftContextMap *map,
                         guint32         key)
{
  if (map == NULL)
    return NULL;
  return node_remove (map, key, 0);
}

/*
 * Returns: (transfer none) (nullable): the binding of @key in @map
 */
WeftContextEntry *
weft_context_map_lookup (WeftContextMap *map,
                         guint32         key)
{
  for (guint shift = 0; map != NULL; shift += BITS_PER_LEVEL)
    {
      guint32 bit = key_bit (key, shift);
      gpointer slot;

      if ((map->bitmap & bit) == 0)
        return NULL;
      slot = map->slots[slot_position (map->bitmap, bit)];
      if (map->entrymap & bit)
        return ((WeftContextEntry *) slot)->key == key ? slot : NULL;
      map = slot;
    }
  return NULL;
}

/* Calls @func on every entry, in key-bit order. */
void
weft_context_map_foreach (WeftContextMap *map,
                          GFunc           func,
                          gpointer        user_data)
{
  if (map == NULL)
    return;

  for (guint bit = 0, i = 0; bit < 32; bit++)
    {
      if ((map->bitmap & (1u << bit)) == 0)
        continue;
      if (map->entrymap & (1u << bit))
        func (map->slots[i], user_data);
      else
        weft_context_map_foreach (map->slots[i], func, user_data);
      i++;
    }
}

static void
count_entry (gpointer entry,
             gpointer user_data)
{
  (*(guint *) user_data)++;
}

guint
weft_context_map_get_size (WeftContextMap *map)
{
  guint size = 0;

  weft_context_map_foreach (map, count_entry, &size);
  return size;
}
