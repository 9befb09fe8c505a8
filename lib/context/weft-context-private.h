/* weft-context-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-context.h"
#include "weft-context-map-private.h"
#include "weft-context-token.h"
#include "weft-tls-private.h"

G_BEGIN_DECLS

struct _WeftContext
{
  gatomicrefcount  ref_count;
  gboolean         entered;
  GObject         *owner;          /* an embedded context's: references go to it */
  WeftContextMap  *map;            /* replaced, never changed, by a set */
  guint64          serial;         /* names the context in tokens; 0 until one is made */
  WeftContext     *forward;        /* a step's stand-in: the task's context, once made */
};

/* The context entered on this thread; NULL for the thread's base context,
 * which is only created once something is set in it.
 */
G_GNUC_INTERNAL extern WEFT_THREAD_LOCAL WeftContext *weft_context_current;

/* What entering a context saved, to leave it: a task step enters its
 * task's context this way, with two loads and three stores.
 */
typedef struct
{
  WeftContext *previous;
  gboolean     was_entered;
} WeftContextSwitch;

static inline void
weft_context_switch_in (WeftContext       *context,
                        WeftContextSwitch *saved)
{
  saved->previous = weft_context_current;
  saved->was_entered = context->entered;
  context->entered = TRUE;
  weft_context_current = context;
}

static inline void
weft_context_switch_out (WeftContext       *context,
                         WeftContextSwitch *saved)
{
  context->entered = saved->was_entered;
  weft_context_current = saved->previous;
}

WeftContext      *weft_context_get_current     (gboolean          create);
WeftContextMap   *weft_context_capture_map     (void);
void              weft_context_init_embedded   (WeftContext      *context,
                                                gpointer          owner,
                                                WeftContextMap   *map);
void              weft_context_clear_embedded  (WeftContext      *context);
guint64           weft_context_ensure_serial   (WeftContext      *self);
void              weft_context_replace_map     (WeftContext      *self,
                                                WeftContextMap   *map);

guint32           weft_context_var_get_key     (WeftContextVar   *self);

WeftContextToken *weft_context_token_new       (WeftContextVar   *var,
                                                WeftContextEntry *old_entry,
                                                guint64           context_serial);
WeftContextEntry *weft_context_token_peek_old  (WeftContextToken *self);
guint64           weft_context_token_get_context_serial (WeftContextToken *self);
gboolean          weft_context_token_is_used   (WeftContextToken *self);
void              weft_context_token_mark_used (WeftContextToken *self);

G_END_DECLS
