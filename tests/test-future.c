/* test-future.c — WeftFuture: rules F1–F11 of shared/asyncio-semantics.md
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

static void
append_tag (WeftFuture *future,
            gpointer    user_data)
{
  GString *log = g_object_get_data (G_OBJECT (future), "log");

  weft_test_log (log, "%s", (const char *) user_data);
}

static WeftFuture *
future_with_log (GString *log)
{
  WeftFuture *future = weft_future_new ();

  g_object_set_data (G_OBJECT (future), "log", log);
  return future;
}

/* F1 */
static void
test_initial_state (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();

  g_assert_cmpint (weft_future_get_state (future), ==, WEFT_FUTURE_STATE_PENDING);
  g_assert_false (weft_future_is_done (future));
  g_assert_false (weft_future_is_cancelled (future));
}

/* F1, F2 */
static void
test_result (WeftTestLoop  *loop,
             gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (weft_future_get_int64 (future, &error), ==, 0);
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);
  g_assert_cmpstr (error->message, ==, "Result is not ready.");
  g_clear_error (&error);

  weft_future_set_int64 (future, 42);
  g_assert_cmpint (weft_future_get_state (future), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_true (weft_future_is_done (future));
  g_assert_false (weft_future_is_cancelled (future));
  g_assert_cmpint (weft_future_get_int64 (future, &error), ==, 42);
  g_assert_no_error (error);
  g_assert_null (weft_future_dup_error (future));
}

/* F2: every typed setter round-trips through its getter and a GValue */
static void
test_typed_values (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) d = weft_future_new ();
  g_autoptr(WeftFuture) s = weft_future_new ();
  g_autoptr(WeftFuture) o = weft_future_new ();
  g_autoptr(WeftFuture) x = weft_future_new ();
  g_autoptr(WeftFuture) p = weft_future_new ();
  g_autoptr(WeftFuture) v = weft_future_new ();
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GObject) object_out = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_static ("boxed", 5);
  g_autoptr(GBytes) bytes_out = NULL;
  g_autofree char *string_out = NULL;
  g_auto(GValue) in = G_VALUE_INIT;
  g_auto(GValue) out = G_VALUE_INIT;

  weft_future_set_boolean (b, TRUE);
  weft_future_set_double (d, 2.5);
  weft_future_set_string (s, "text");
  weft_future_set_object (o, object);
  weft_future_set_boxed (x, G_TYPE_BYTES, bytes);
  weft_future_set_pointer (p, g_strdup ("owned"), g_free);
  g_value_init (&in, G_TYPE_UINT);
  g_value_set_uint (&in, 7);
  weft_future_set_value (v, &in);

  g_assert_true (weft_future_get_boolean (b, &error));
  g_assert_cmpfloat (weft_future_get_double (d, &error), ==, 2.5);
  string_out = weft_future_dup_string (s, &error);
  g_assert_cmpstr (string_out, ==, "text");
  object_out = weft_future_dup_object (o, &error);
  g_assert_true (object_out == object);
  bytes_out = weft_future_dup_boxed (x, &error);
  g_assert_true (g_bytes_equal (bytes_out, bytes));
  g_assert_cmpstr (weft_future_get_pointer (p, &error), ==, "owned");
  g_assert_true (weft_future_get_value (v, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_value_get_uint (&out), ==, 7);

  /* Asking for the wrong type is an error, not a crash. */
  g_assert_cmpint (weft_future_get_int64 (s, &error), ==, 0);
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_TYPE);
}

/* F1, F2, F10: reading the error marks it retrieved */
static void
test_error (WeftTestLoop  *loop,
            gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again = NULL;

  weft_future_set_error (future, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone"));
  g_assert_cmpint (weft_future_get_state (future), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_false (weft_future_is_cancelled (future));

  g_assert_false (weft_future_propagate (future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "gone");

  again = weft_future_dup_error (future);
  g_assert_error (again, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* F3: a second outcome is refused loudly and changes nothing */
static void
test_set_twice (WeftTestLoop  *loop,
                gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();

  weft_future_set_int64 (future, 1);

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*already done*");
  weft_future_set_int64 (future, 2);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*already done*");
  weft_future_set_error (future, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
  g_test_assert_expected_messages ();

  g_assert_false (weft_future_cancel (future, NULL));
  g_assert_cmpint (weft_future_get_int64 (future, NULL), ==, 1);
}

/* Bad input gets a critical and no change */
static void
test_null_arguments (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*WEFT_IS_FUTURE*");
  g_assert_false (weft_future_is_done (NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*error != NULL*");
  weft_future_set_error (future, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*callback != NULL*");
  weft_future_add_done_callback (future, NULL, NULL, NULL);
  g_test_assert_expected_messages ();

  g_assert_false (weft_future_is_done (future));
}

/* F4: set_exception(Class) becomes setting a new error from its parts */
static void
test_error_literal (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(GError) error = NULL;

  weft_future_set_error_literal (future, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "no");
  g_assert_false (weft_future_propagate (future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
}

/* F5, F6 */
static void
test_cancel (WeftTestLoop  *loop,
             gconstpointer  data)
{
  g_autoptr(WeftFuture) plain = weft_future_new ();
  g_autoptr(WeftFuture) with_message = weft_future_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_future_cancel (plain, NULL));
  g_assert_cmpint (weft_future_get_state (plain), ==, WEFT_FUTURE_STATE_CANCELLED);
  g_assert_true (weft_future_is_done (plain));
  g_assert_true (weft_future_is_cancelled (plain));
  g_assert_null (weft_future_get_cancel_message (plain));
  g_assert_false (weft_future_propagate (plain, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* Terminal: a second cancel and a late result change nothing. */
  g_assert_false (weft_future_cancel (plain, "again"));
  g_assert_null (weft_future_get_cancel_message (plain));

  g_assert_true (weft_future_cancel (with_message, "my message"));
  g_assert_cmpstr (weft_future_get_cancel_message (with_message), ==, "my message");
  g_assert_false (weft_future_propagate (with_message, &error));
  weft_test_assert_cancelled_error (error, "my message");
}

/* F7: callbacks are queued in order, never run inline */
static void
test_callbacks_scheduled (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) future = future_with_log (log);

  weft_future_add_done_callback (future, append_tag, "a", NULL);
  weft_future_add_done_callback (future, append_tag, "b", NULL);
  weft_future_add_done_callback (future, append_tag, "c", NULL);

  weft_future_set_int64 (future, 1);
  g_assert_cmpstr (log->str, ==, "");

  g_assert_cmpuint (weft_test_pass (), ==, 3);
  g_assert_cmpstr (log->str, ==, "a b c");

  /* Added to a done future: still queued, not called here. */
  weft_future_add_done_callback (future, append_tag, "late", NULL);
  g_assert_cmpstr (log->str, ==, "a b c");
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a b c late");
}

/* F7: error and cancel queue the callbacks just as a value does */
static void
test_callbacks_on_error_and_cancel (WeftTestLoop  *loop,
                                    gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) failed = future_with_log (log);
  g_autoptr(WeftFuture) cancelled = future_with_log (log);
  g_autoptr(GError) error = NULL;

  weft_future_add_done_callback (failed, append_tag, "failed", NULL);
  weft_future_add_done_callback (cancelled, append_tag, "cancelled", NULL);

  weft_future_set_error_literal (failed, G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  weft_future_cancel (cancelled, NULL);
  g_assert_cmpstr (log->str, ==, "");

  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "failed cancelled");
  error = weft_future_dup_error (failed);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
}

static int notified;

static void
count_notify (gpointer data)
{
  notified++;
}

/* F8: remove_done_callback removes every equal entry and counts them */
static void
test_remove_done_callback (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) future = future_with_log (log);
  static char a[] = "a", b[] = "b", c[] = "c";

  notified = 0;
  weft_future_add_done_callback (future, append_tag, a, count_notify);
  weft_future_add_done_callback (future, append_tag, b, count_notify);
  weft_future_add_done_callback (future, append_tag, a, count_notify);
  weft_future_add_done_callback (future, append_tag, c, count_notify);
  weft_future_add_done_callback (future, append_tag, a, count_notify);

  g_assert_cmpuint (weft_future_remove_done_callback (future, append_tag, a), ==, 3);
  g_assert_cmpint (notified, ==, 3);
  g_assert_cmpuint (weft_future_remove_done_callback (future, append_tag, a), ==, 0);

  /* Removing the last one keeps appending working. */
  g_assert_cmpuint (weft_future_remove_done_callback (future, append_tag, c), ==, 1);
  weft_future_add_done_callback (future, append_tag, c, count_notify);

  weft_future_set_boolean (future, TRUE);
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "b c");
  g_assert_cmpint (notified, ==, 6);
}

/* F10: an error nobody read is reported when the future goes away */
static void
test_unretrieved_error (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  WeftFuture *future = weft_future_new ();
  WeftFuture *read = weft_future_new ();
  WeftFuture *cancelled = weft_future_new ();

  weft_future_set_error_literal (future, G_IO_ERROR, G_IO_ERROR_FAILED, "lost");
  g_test_expect_message ("Weft", G_LOG_LEVEL_WARNING, "*never retrieved: lost*");
  g_object_unref (future);
  g_test_assert_expected_messages ();

  /* Read once, or cancelled: nothing to report. */
  weft_future_set_error_literal (read, G_IO_ERROR, G_IO_ERROR_FAILED, "read");
  g_assert_false (weft_future_propagate (read, NULL));
  g_object_unref (read);
  weft_future_cancel (cancelled, NULL);
  g_object_unref (cancelled);
}

/* F11: bound at construction to the thread-default context */
static void
test_context_binding (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(WeftFuture) here = weft_future_new ();
  g_autoptr(GMainContext) other = g_main_context_new ();
  g_autoptr(WeftFuture) there = NULL;
  g_autoptr(GString) log = g_string_new (NULL);

  g_assert_true (weft_future_get_context (here) == loop->context);

  g_main_context_push_thread_default (other);
  there = future_with_log (log);
  g_main_context_pop_thread_default (other);
  g_assert_true (weft_future_get_context (there) == other);

  /* Its callbacks run where it is bound, not where it completes. */
  weft_future_add_done_callback (there, append_tag, "there", NULL);
  weft_future_set_int64 (there, 1);
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "");
  g_assert_cmpuint (weft_run_pass (other), ==, 1);
  g_assert_cmpstr (log->str, ==, "there");
}

static void
count_destroyed_closure (gpointer  data,
                         GClosure *closure)
{
  (*(guint *) data)++;
}

static void
count_weak_notify (gpointer  data,
                   GObject  *where_the_object_was)
{
  (*(guint *) data)++;
}

static void
ignore_notify (GObject    *object,
               GParamSpec *pspec,
               gpointer    data)
{
}

/* WeftFuture skips GObject's dispose pass (see weft_future_dispose):
 * the last unref must still drop handlers and weak references.
 */
static void
test_last_unref_releases_attachments (WeftTestLoop  *loop,
                                      gconstpointer  data)
{
  WeftFuture *future = weft_future_new ();
  guint closures_destroyed = 0;
  guint weak_notified = 0;
  GWeakRef weak_ref;

  g_signal_connect_data (future, "notify", G_CALLBACK (ignore_notify),
                         &closures_destroyed, count_destroyed_closure, 0);
  g_object_weak_ref (G_OBJECT (future), count_weak_notify, &weak_notified);
  g_weak_ref_init (&weak_ref, future);
  weft_future_set_int64 (future, 1);

  g_object_unref (future);

  g_assert_cmpuint (closures_destroyed, ==, 1);
  g_assert_cmpuint (weak_notified, ==, 1);
  g_assert_null (g_weak_ref_get (&weak_ref));
  g_weak_ref_clear (&weak_ref);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/future/initial-state", test_initial_state);
  WEFT_TEST_ADD ("/future/result", test_result);
  WEFT_TEST_ADD ("/future/typed-values", test_typed_values);
  WEFT_TEST_ADD ("/future/error", test_error);
  WEFT_TEST_ADD ("/future/set-twice", test_set_twice);
  WEFT_TEST_ADD ("/future/null-arguments", test_null_arguments);
  WEFT_TEST_ADD ("/future/error-literal", test_error_literal);
  WEFT_TEST_ADD ("/future/cancel", test_cancel);
  WEFT_TEST_ADD ("/future/callbacks-scheduled", test_callbacks_scheduled);
  WEFT_TEST_ADD ("/future/callbacks-on-error-and-cancel", test_callbacks_on_error_and_cancel);
  WEFT_TEST_ADD ("/future/remove-done-callback", test_remove_done_callback);
  WEFT_TEST_ADD ("/future/unretrieved-error", test_unretrieved_error);
  WEFT_TEST_ADD ("/future/context-binding", test_context_binding);
  WEFT_TEST_ADD ("/future/last-unref-releases-attachments", test_last_unref_releases_attachments);

  return g_test_run ();
}
