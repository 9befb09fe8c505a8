/* weft-future.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * WeftFutureState:
 * @WEFT_FUTURE_STATE_PENDING: no outcome yet
 * @WEFT_FUTURE_STATE_FINISHED: finished with a value or an error
 * @WEFT_FUTURE_STATE_CANCELLED: cancelled
 *
 * The states of a #WeftFuture. Finished and cancelled are terminal.
 */
typedef enum
{
  WEFT_FUTURE_STATE_PENDING,
  WEFT_FUTURE_STATE_FINISHED,
  WEFT_FUTURE_STATE_CANCELLED,
} WeftFutureState;

#define WEFT_TYPE_FUTURE (weft_future_get_type ())

G_DECLARE_DERIVABLE_TYPE (WeftFuture, weft_future, WEFT, FUTURE, GObject)

/**
 * WeftFutureClass:
 * @parent_class: the parent class
 * @cancel: requests cancellation; see weft_future_cancel()
 *
 * The class of #WeftFuture.
 */
struct _WeftFutureClass
{
  GObjectClass parent_class;

  gboolean (*cancel) (WeftFuture *self,
                      const char *message);

  /*< private >*/
  gpointer padding[8];
};

/**
 * WeftFutureCallback:
 * @future: the future that is done
 * @user_data: the data given to weft_future_add_done_callback()
 *
 * A done callback. It always runs from the future's #GMainContext, in a
 * later pass of the ready queue than the one that completed the future.
 */
typedef void (*WeftFutureCallback) (WeftFuture *future,
                                    gpointer    user_data);

WeftFuture      *weft_future_new                 (void);
GMainContext    *weft_future_get_context         (WeftFuture          *self);
WeftFutureState  weft_future_get_state           (WeftFuture          *self);
gboolean         weft_future_is_done             (WeftFuture          *self);
gboolean         weft_future_is_cancelled        (WeftFuture          *self);
gboolean         weft_future_cancel              (WeftFuture          *self,
                                                  const char          *message);
const char      *weft_future_get_cancel_message  (WeftFuture          *self);

void             weft_future_set_value           (WeftFuture          *self,
                                                  const GValue        *value);
void             weft_future_set_boolean         (WeftFuture          *self,
                                                  gboolean             value);
void             weft_future_set_int64           (WeftFuture          *self,
                                                  gint64               value);
void             weft_future_set_double          (WeftFuture          *self,
                                                  double               value);
void             weft_future_set_string          (WeftFuture          *self,
                                                  const char          *value);
void             weft_future_set_object          (WeftFuture          *self,
                                                  gpointer             object);
void             weft_future_set_boxed           (WeftFuture          *self,
                                                  GType                boxed_type,
                                                  gconstpointer        boxed);
void             weft_future_set_pointer         (WeftFuture          *self,
                                                  gpointer             pointer,
                                                  GDestroyNotify       destroy);
void             weft_future_set_error           (WeftFuture          *self,
                                                  GError              *error);
void             weft_future_set_error_literal   (WeftFuture          *self,
                                                  GQuark               domain,
                                                  int                  code,
                                                  const char          *message);

gboolean         weft_future_get_value           (WeftFuture          *self,
                                                  GValue              *value,
                                                  GError             **error);
gboolean         weft_future_get_boolean         (WeftFuture          *self,
                                                  GError             **error);
gint64           weft_future_get_int64           (WeftFuture          *self,
                                                  GError             **error);
double           weft_future_get_double          (WeftFuture          *self,
                                                  GError             **error);
char            *weft_future_dup_string          (WeftFuture          *self,
                                                  GError             **error);
gpointer         weft_future_dup_object          (WeftFuture          *self,
                                                  GError             **error);
gpointer         weft_future_dup_boxed           (WeftFuture          *self,
                                                  GError             **error);
gpointer         weft_future_get_pointer         (WeftFuture          *self,
                                                  GError             **error);
gboolean         weft_future_propagate           (WeftFuture          *self,
                                                  GError             **error);
GError          *weft_future_dup_error           (WeftFuture          *self);
gboolean         weft_future_wait                (WeftFuture          *self,
                                                  double               timeout,
                                                  GError             **error);

void             weft_future_add_done_callback   (WeftFuture          *self,
                                                  WeftFutureCallback   callback,
                                                  gpointer             user_data,
                                                  GDestroyNotify       notify);
guint            weft_future_remove_done_callback (WeftFuture         *self,
                                                   WeftFutureCallback  callback,
                                                   gpointer            user_data);

G_END_DECLS
