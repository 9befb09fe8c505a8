/* weft-context-map-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* A persistent map from context variables to values: a hash array mapped
 * trie keyed by the variable's serial number. Nodes never change once
 * built; an update copies the path from the root to the changed slot and
 * shares everything else, so copying a map is one reference and an update
 * is O(log32 n). %NULL is the empty map.
 *
 * Nodes are reference-counted atomically: a map may be shared by contexts
 * used on several threads.
 */
typedef struct _WeftContextMap   WeftContextMap;
typedef struct _WeftContextEntry WeftContextEntry;

/* One binding. Entries are immutable and shared between maps. */
struct _WeftContextEntry
{
  gatomicrefcount  ref_count;      /* first, as in nodes: slots are ref'd alike */
  guint32          key;
  gpointer         var;            /* a referenced WeftContextVar */
  GValue           value;
};

WeftContextEntry *weft_context_entry_new      (gpointer                var,
                                               guint32                 key,
                                               const GValue           *value);
WeftContextEntry *weft_context_entry_ref      (WeftContextEntry       *entry);
void              weft_context_entry_unref    (WeftContextEntry       *entry);

WeftContextMap   *weft_context_map_ref        (WeftContextMap         *map);
void              weft_context_map_unref      (WeftContextMap         *map);
WeftContextEntry *weft_context_map_lookup     (WeftContextMap         *map,
                                               guint32                 key);
WeftContextMap   *weft_context_map_insert     (WeftContextMap         *map,
                                               WeftContextEntry       *entry);
WeftContextMap   *weft_context_map_remove     (WeftContextMap         *map,
                                               guint32                 key);
guint             weft_context_map_get_size   (WeftContextMap         *map);
void              weft_context_map_foreach    (WeftContextMap         *map,
                                               GFunc                   func,
                                               gpointer                user_data);

G_END_DECLS
