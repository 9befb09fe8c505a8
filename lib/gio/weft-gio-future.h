/* weft-gio-future.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <gio/gio.h>

#include "core/weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_GIO_FUTURE (weft_gio_future_get_type ())

G_DECLARE_FINAL_TYPE (WeftGioFuture, weft_gio_future, WEFT, GIO_FUTURE, WeftFuture)

/**
 * WeftGioFinishFunc:
 * @source: (nullable): the operation's source object
 * @result: the operation's result
 * @error: return location for the operation's error
 *
 * The shape of a GIO `*_finish()` function that returns a pointer (an
 * object, a boxed value, a #GVariant or a string), such as
 * g_socket_client_connect_finish().
 *
 * Returns: (nullable) (transfer full): the operation's result
 */
typedef gpointer (*WeftGioFinishFunc) (GObject       *source,
                                       GAsyncResult  *result,
                                       GError       **error);

/**
 * WeftGioFinishBooleanFunc:
 * @source: (nullable): the operation's source object
 * @result: the operation's result
 * @error: return location for the operation's error
 *
 * The shape of a GIO `*_finish()` function that returns a #gboolean, such
 * as g_file_delete_finish().
 *
 * Returns: the operation's result
 */
typedef gboolean (*WeftGioFinishBooleanFunc) (GObject       *source,
                                              GAsyncResult  *result,
                                              GError       **error);

/**
 * WeftGioFinishSizeFunc:
 * @source: (nullable): the operation's source object
 * @result: the operation's result
 * @error: return location for the operation's error
 *
 * The shape of a GIO `*_finish()` function that returns a #gssize, such as
 * g_input_stream_read_finish().
 *
 * Returns: the operation's result
 */
typedef gssize (*WeftGioFinishSizeFunc) (GObject       *source,
                                         GAsyncResult  *result,
                                         GError       **error);

WeftFuture   *weft_gio_future_new             (void);
WeftFuture   *weft_gio_future_new_finish      (GType                     result_type,
                                               WeftGioFinishFunc         finish);
WeftFuture   *weft_gio_future_new_boolean     (WeftGioFinishBooleanFunc  finish);
WeftFuture   *weft_gio_future_new_size        (WeftGioFinishSizeFunc     finish);

GCancellable *weft_gio_future_get_cancellable (WeftGioFuture            *self);
void          weft_gio_future_complete        (WeftGioFuture            *self,
                                               GObject                  *source,
                                               GAsyncResult             *result);
void          weft_gio_future_ready           (GObject                  *source,
                                               GAsyncResult             *result,
                                               gpointer                  user_data);

G_END_DECLS
