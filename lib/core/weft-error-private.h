/* weft-error-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-error.h"

G_BEGIN_DECLS

/* asyncio's CancelledError(msg) is G_IO_ERROR_CANCELLED whose message is
 * msg, or GIO's default text when there was none (F6).
 */
GError     *weft_cancelled_error_new         (const char   *message);
gboolean    weft_error_is_cancelled          (const GError *error);
const char *weft_cancelled_error_get_message (const GError *error);

/* A WEFT_ERROR error may carry a list that copies share (the failures of a
 * task group); the list's element type is its owner's business.
 */
GPtrArray  *weft_error_peek_failures         (const GError *error);
void        weft_error_take_failures         (GError       *error,
                                              GPtrArray    *failures);

G_END_DECLS
