/* weft-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gio/gio.h>

#include "weft-error-private.h"

/* An extended error domain: a %WEFT_ERROR_TASK_GROUP error carries the
 * list of what each task raised, and copies share it, so the list survives
 * being stored in a future, awaited, and nested in an outer group's error.
 */
typedef struct
{
  GPtrArray *failures;
} WeftErrorPrivate;

/* Where G_DEFINE_EXTENDED_ERROR finds the private data: just below the
 * GError, aligned. That macro would also rename the domain string.
 */
static WeftErrorPrivate *
weft_error_get_private (const GError *error)
{
  const gsize alignment = 2 * sizeof (gsize);
  const gsize size = (sizeof (WeftErrorPrivate) + (alignment - 1)) & -alignment;

  return (WeftErrorPrivate *) (((guint8 *) error) - size);
}

static void
weft_error_private_init (GError *error)
{
  weft_error_get_private (error)->failures = NULL;
}

static void
weft_error_private_copy (const GError *src,
                         GError       *dest)
{
  GPtrArray *failures = weft_error_get_private (src)->failures;

  weft_error_get_private (dest)->failures = failures != NULL ? g_ptr_array_ref (failures) : NULL;
}

static void
weft_error_private_clear (GError *error)
{
  g_clear_pointer (&weft_error_get_private (error)->failures, g_ptr_array_unref);
}

/**
 * weft_error_quark:
 *
 * Gets the error domain of Weft's own errors.
 *
 * Returns: the %WEFT_ERROR quark
 */
GQuark
weft_error_quark (void)
{
  static GQuark quark;
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      quark = g_error_domain_register_static ("weft-error-quark", sizeof (WeftErrorPrivate),
                                              weft_error_private_init,
                                              weft_error_private_copy,
                                              weft_error_private_clear);
      g_once_init_leave (&initialized, 1);
    }
  return quark;
}

/* GLib finds a domain's private data when an error is freed, so an error of
 * the domain made before registration (from a quark looked up by name, as
 * bindings do) must not exist: register when the library loads.
 */
__attribute__((constructor)) static void
weft_error_register_domain (void)
{
  weft_error_quark ();
}

GPtrArray *
weft_error_peek_failures (const GError *error)
{
  if (error == NULL || error->domain != WEFT_ERROR)
    return NULL;
  return weft_error_get_private (error)->failures;
}

void
weft_error_take_failures (GError    *error,
                          GPtrArray *failures)
{
  WeftErrorPrivate *priv;

  g_return_if_fail (error != NULL && error->domain == WEFT_ERROR);

  priv = weft_error_get_private (error);
  g_clear_pointer (&priv->failures, g_ptr_array_unref);
  priv->failures = failures;
}

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
