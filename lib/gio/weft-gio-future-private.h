/* weft-gio-future-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-gio-future.h"

G_BEGIN_DECLS

gpointer weft_gio_future_ref_for_ready (WeftFuture *op);

G_END_DECLS
