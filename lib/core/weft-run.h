/* weft-run.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "weft-future.h"
#include "../coroutines/weft-fiber.h"

G_BEGIN_DECLS

gboolean weft_run                (WeftFiberFunc  func,
                                  gpointer       user_data,
                                  GValue        *result,
                                  GError       **error);
gboolean weft_run_until_complete (WeftFuture    *future,
                                  GError       **error);
guint    weft_run_pass           (GMainContext  *context);

G_END_DECLS
