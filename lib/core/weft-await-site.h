/* weft-await-site.h
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
 * WeftAwaitSite:
 * @file: the source file of the await
 * @line: the line of the await
 * @function: the function that awaits
 *
 * Where a task awaits: one frame of a task's stack.
 *
 * The await macros (weft_await(), weft_task_await(), weft_sleep(), …) capture
 * the site at compile time in a static constant, so recording where a task is
 * suspended costs one pointer store.
 */
typedef struct _WeftAwaitSite WeftAwaitSite;

struct _WeftAwaitSite
{
  const char *file;
  int line;
  const char *function;
};

#define WEFT_TYPE_AWAIT_SITE (weft_await_site_get_type ())

GType          weft_await_site_get_type (void) G_GNUC_CONST;
WeftAwaitSite *weft_await_site_copy     (const WeftAwaitSite *site);
void           weft_await_site_free     (WeftAwaitSite       *site);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftAwaitSite, weft_await_site_free)

/**
 * WEFT_AWAIT_SITE:
 *
 * A pointer to a static #WeftAwaitSite describing the current source line.
 */
#if defined (__GNUC__) && !defined (__GI_SCANNER__)
# define WEFT_AWAIT_SITE \
  (__extension__ ({ static const WeftAwaitSite weft_await_site_ = { __FILE__, __LINE__, __func__ }; &weft_await_site_; }))
#else
# define WEFT_AWAIT_SITE ((const WeftAwaitSite *) NULL)
#endif

G_END_DECLS
