/* weft-inspect-record.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "weft-inspect-record.h"

#define MAGIC_LEN (sizeof WEFT_INSPECT_RECORD_MAGIC - 1)

struct _WeftInspectRecordWriter
{
  FILE  *file;
  char  *path;
  guint  count;
};

static gboolean
set_io_error (GError     **error,
              const char  *path,
              int          saved_errno)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "%s: %s", path, g_strerror (saved_errno));
  return FALSE;
}

WeftInspectRecordWriter *
weft_inspect_record_writer_new (const char  *path,
                                GError     **error)
{
  WeftInspectRecordWriter *self;
  FILE *file = g_fopen (path, "wb");

  if (file == NULL || fwrite (WEFT_INSPECT_RECORD_MAGIC, MAGIC_LEN, 1, file) != 1)
    {
      int saved_errno = errno;

      if (file != NULL)
        fclose (file);
      set_io_error (error, path, saved_errno);
      return NULL;
    }

  self = g_new0 (WeftInspectRecordWriter, 1);
  self->file = file;
  self->path = g_strdup (path);
  return self;
}

/**
 * weft_inspect_record_writer_append:
 * @batch: an a{sv} batch; the first one must be full
 *
 * Writes one frame and flushes it, so a recording cut short keeps every
 * batch written before.
 */
gboolean
weft_inspect_record_writer_append (WeftInspectRecordWriter  *self,
                                   GVariant                 *batch,
                                   GError                  **error)
{
  g_autoptr(GVariant) normal = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gsize size;
  guint32 length;

  g_return_val_if_fail (g_variant_is_of_type (batch, G_VARIANT_TYPE_VARDICT), FALSE);

  normal = g_variant_get_normal_form (batch);
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (normal);

      g_variant_unref (normal);
      normal = swapped;
    }
  bytes = g_variant_get_data_as_bytes (normal);
  size = g_bytes_get_size (bytes);
  if (size > G_MAXUINT32)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "%s: a batch of %" G_GSIZE_FORMAT " bytes does not fit a frame", self->path, size);
      return FALSE;
    }
  length = GUINT32_TO_LE ((guint32) size);

  if (fwrite (&length, sizeof length, 1, self->file) != 1 ||
      (size > 0 && fwrite (g_bytes_get_data (bytes, NULL), size, 1, self->file) != 1) ||
      fflush (self->file) != 0)
    return set_io_error (error, self->path, errno);

  self->count++;
  return TRUE;
}

guint
weft_inspect_record_writer_get_count (WeftInspectRecordWriter *self)
{
  return self->count;
}

gboolean
weft_inspect_record_writer_close (WeftInspectRecordWriter  *self,
                                  GError                  **error)
{
  FILE *file = g_steal_pointer (&self->file);

  if (file != NULL && fclose (file) != 0)
    return set_io_error (error, self->path, errno);
  return TRUE;
}

void
weft_inspect_record_writer_free (WeftInspectRecordWriter *self)
{
  if (self->file != NULL)
    fclose (self->file);
  g_free (self->path);
  g_free (self);
}

/**
 * weft_inspect_record_read:
 * @path: a record file
 *
 * Reads every batch of a record. A last frame cut short (the recorder was
 * killed while writing it) ends the record.
 *
 * Returns: (transfer full) (element-type GVariant): the batches, in order;
 *   %NULL with %G_IO_ERROR_INVALID_DATA if @path is not a record
 */
GPtrArray *
weft_inspect_record_read (const char  *path,
                          GError     **error)
{
  g_autoptr(GPtrArray) batches = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  const guint8 *data;
  gsize size, offset;
  gboolean full = FALSE;

  mapped = g_mapped_file_new (path, FALSE, error);
  if (mapped == NULL)
    return NULL;
  contents = g_mapped_file_get_bytes (mapped);
  data = g_bytes_get_data (contents, &size);

  if (size < MAGIC_LEN || memcmp (data, WEFT_INSPECT_RECORD_MAGIC, MAGIC_LEN) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a weft-inspect record", path);
      return NULL;
    }

  for (offset = MAGIC_LEN; size - offset >= sizeof (guint32);)
    {
      g_autoptr(GBytes) frame = NULL;
      GVariant *batch;
      guint32 length;

      memcpy (&length, data + offset, sizeof length);
      length = GUINT32_FROM_LE (length);
      offset += sizeof length;
      if (length > size - offset)
        break;

      frame = g_bytes_new_from_bytes (contents, offset, length);
      offset += length;
      batch = g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, frame, FALSE);
      if (G_BYTE_ORDER == G_BIG_ENDIAN)
        {
          GVariant *swapped = g_variant_byteswap (batch);

          g_variant_unref (batch);
          batch = swapped;
        }
      g_ptr_array_add (batches, g_variant_ref_sink (batch));
    }

  if (batches->len == 0 ||
      !g_variant_lookup (batches->pdata[0], "full", "b", &full) || !full)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: the record does not start with a full batch", path);
      return NULL;
    }

  return g_steal_pointer (&batches);
}
