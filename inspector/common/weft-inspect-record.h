/* weft-inspect-record.h: `weft-inspect record` files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* "WEFTREC1", then one frame per batch: a guint32 little-endian length and
 * the batch, an a{sv} in normal form, little-endian. The first batch is a
 * full one; batches are in time order.
 */
#define WEFT_INSPECT_RECORD_MAGIC "WEFTREC1"

typedef struct _WeftInspectRecordWriter WeftInspectRecordWriter;

WeftInspectRecordWriter *weft_inspect_record_writer_new       (const char               *path,
                                                               GError                  **error);
gboolean                 weft_inspect_record_writer_append    (WeftInspectRecordWriter  *self,
                                                               GVariant                 *batch,
                                                               GError                  **error);
guint                    weft_inspect_record_writer_get_count (WeftInspectRecordWriter  *self);
gboolean                 weft_inspect_record_writer_close     (WeftInspectRecordWriter  *self,
                                                               GError                  **error);
void                     weft_inspect_record_writer_free      (WeftInspectRecordWriter  *self);

GPtrArray               *weft_inspect_record_read             (const char               *path,
                                                               GError                  **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftInspectRecordWriter, weft_inspect_record_writer_free)

G_END_DECLS
