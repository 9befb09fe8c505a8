/* weft-await-site.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-await-site.h"

G_DEFINE_BOXED_TYPE (WeftAwaitSite, weft_await_site, weft_await_site_copy, weft_await_site_free)

/**
 * weft_await_site_copy:
 * @site: a site
 *
 * Copies @site.
 *
 * Returns: (transfer full): a copy of @site. Its strings are shared: they
 *   are static in the program that awaited.
 */
WeftAwaitSite *
weft_await_site_copy (const WeftAwaitSite *site)
{
  return g_memdup2 (site, sizeof *site);
}

/**
 * weft_await_site_free:
 * @site: a site from weft_await_site_copy()
 *
 * Frees @site.
 */
void
weft_await_site_free (WeftAwaitSite *site)
{
  g_free (site);
}
