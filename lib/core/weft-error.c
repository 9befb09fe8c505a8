/* weft-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gio/gio.h>

#include "weft-error-private.h"

/**
 * weft_error_quark:
 *
 * Gets the error domain of Weft's own errors.
 *
 * Returns: the %WEFT_ERROR quark
 */
G_DEFINE_QUARK (weft-error-quark, weft_error)

/* GIO's own wording: a cancelled GIO call and a cancelled future without a
 * message read the same.
 */
#define DEFAULT_CANCEL_MESSAGE "Operation was cancelled"

GError *
weft_cancelled_error_new (const char *message)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              message != NULL ? message : DEFAULT_CANCEL_MESSAGE);
}

gboolean
weft_error_is_cancelled (const GError *error)
{
  return error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

const char *
weft_cancelled_error_get_message (const GError *error)
{
  g_assert (weft_error_is_cancelled (error));

  if (g_str_equal (error->message, DEFAULT_CANCEL_MESSAGE))
    return NULL;
  return error->message;
}
