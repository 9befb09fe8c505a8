/* weft-test-utils.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <pthread.h>

#include <gio/gio.h>
#include <weft.h>

G_BEGIN_DECLS

/* Every test runs on a fresh context pushed as thread-default, so tasks and
 * futures of one test never meet another's, and is driven pass by pass.
 */
typedef struct
{
  GMainContext *context;
} WeftTestLoop;

void   weft_test_loop_setup      (WeftTestLoop  *loop,
                                  gconstpointer  data);
void   weft_test_loop_teardown   (WeftTestLoop  *loop,
                                  gconstpointer  data);

guint  weft_test_pass            (void);
void   weft_test_passes          (guint          n);
guint  weft_test_run_until_idle  (void);
void   weft_test_run_until_done  (WeftFuture    *future);

/* A log of events, to check the order things happened in. */
void   weft_test_log             (GString       *log,
                                  const char    *format,
                                  ...) G_GNUC_PRINTF (2, 3);

/* The two coroutine kinds, for tests that run one scenario on both. */
typedef enum
{
  KIND_FIBER,
  KIND_STACKLESS,
  N_KINDS,
} Kind;

#define KIND(data) ((Kind) GPOINTER_TO_INT (data))

void   weft_test_add_both_kinds  (const char    *prefix,
                                  const char    *name,
                                  void         (*func) (WeftTestLoop *, gconstpointer));

#define WEFT_TEST_ADD(path, func) \
  g_test_add (path, WeftTestLoop, NULL, weft_test_loop_setup, func, weft_test_loop_teardown)

/* Checks @error is the cancellation with @message (NULL: without one). */
void   weft_test_assert_cancelled_error (const GError *error,
                                         const char   *message);
void   weft_test_assert_future_cancelled (gpointer     future,
                                          const char  *message);
void   weft_test_assert_finished_int    (gpointer      future,
                                         gint64        expected);

/* A fiber body: awaits the future in @user_data and raises its error. */
void   weft_test_await_data             (WeftTask     *task,
                                         gpointer      user_data);

/* A task of @kind awaiting @future, ending with its error or no value. */
WeftTask *weft_test_spawn_awaiting_future (Kind        kind,
                                           WeftFuture *future);

/* A task of @kind that calls @start, awaits the future it returns and ends
 * with that future's outcome. *@started, if not NULL, gets a reference on
 * the future.
 */
typedef WeftFuture *(*WeftTestStartFunc) (gpointer user_data);

WeftTask *weft_test_spawn_awaiting      (Kind               kind,
                                         WeftTestStartFunc  start,
                                         gpointer           user_data,
                                         WeftFuture       **started);
/* A task of @kind that awaits @future and ends as it did: with its int64
 * value, or its error. It records the thread it resumed on.
 */
typedef struct
{
  WeftFuture *future;
  GThread    *resumed_on;
} WeftTestAwait;

WeftTask *weft_test_spawn_awaiter (Kind           kind,
                                   WeftTestAwait *await);

/* A counter threads wait on, made of pthread primitives so that
 * ThreadSanitizer sees the hand-off (it does not see GLib's GMutex and
 * GCond, which GLib implements with raw futexes). A gate is opened with
 * weft_test_gate_add (gate, 1); N threads meet at one by each adding 1 and
 * waiting for N.
 */
typedef struct
{
  pthread_mutex_t mutex;
  pthread_cond_t  cond;
  int             count;
} WeftTestGate;

void     weft_test_gate_init  (WeftTestGate *gate);
void     weft_test_gate_clear (WeftTestGate *gate);
void     weft_test_gate_add   (WeftTestGate *gate,
                               int           n);
int      weft_test_gate_get   (WeftTestGate *gate);
/* Waits until the count reaches @count; FALSE after @timeout seconds. */
gboolean weft_test_gate_wait  (WeftTestGate *gate,
                               int           count,
                               double        timeout);

/* Generous: a hand-off that takes this long is a hang, not slowness. */
#define WEFT_TEST_TIMEOUT 30.0

G_END_DECLS
