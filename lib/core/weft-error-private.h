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

G_END_DECLS
