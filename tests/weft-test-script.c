/* weft-test-script.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-script.h"

static void
run_plain_op (WeftTestScript   *script,
              WeftTask         *task,
              const WeftTestOp *op)
{
  g_autoptr(GError) error = NULL;
  gint64 value;

  switch (op->code)
    {
    case OP_LOG:
      value = weft_context_var_get_int64 (script->var, &error);
      if (g_error_matches (error, WEFT_ERROR, WEFT_ERROR_LOOKUP))
        weft_test_log (script->log, "%s=unset", script->name);
      else
        {
          g_assert_no_error (error);
          weft_test_log (script->log, "%s=%" G_GINT64_FORMAT, script->name, value);
        }
      break;

    case OP_SET:
      weft_context_token_unref (weft_context_var_set_int64 (script->var, op->arg));
      break;

    case OP_SPAWN:
      g_clear_object (&script->spawned);
      script->spawned = weft_test_script_start (script->child, script->child_context,
                                                script->child_flags);
      break;

    case OP_MARK:
      weft_test_log (script->log, "%s%" G_GINT64_FORMAT, script->name, op->arg);
      break;

    case OP_HOOK:
      script->hook (script, task);
      break;

    case OP_LOG_CURRENT:
      weft_test_log (script->log, "%s:current=%s", script->name,
                     weft_task_get_name (weft_task_get_current ()));
      g_assert_true (weft_task_get_current () == task);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
script_step (WeftTask     *task,
             WeftFuture   *awaited,
             const GError *error,
             gpointer      user_data)
{
  WeftTestScript *script = user_data;

  if (error != NULL)
    {
      weft_task_return_error (task, g_error_copy (error));
      return;
    }

  for (;;)
    {
      const WeftTestOp *op = &script->ops[script->pc++];

      switch (op->code)
        {
        case OP_END:
          weft_task_return_void (task);
          return;
        case OP_YIELD:
          weft_task_yield (task);
          return;
        case OP_AWAIT:
          weft_task_await (task, script->future);
          return;
        case OP_RETURN:
          weft_task_return_int64 (task, op->arg);
          return;
        case OP_FAIL:
          weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "failed"));
          return;
        default:
          run_plain_op (script, task, op);
        }
    }
}

static void
script_fiber (WeftTask *task,
              gpointer  user_data)
{
  WeftTestScript *script = user_data;
  GError *error = NULL;

  for (;;)
    {
      const WeftTestOp *op = &script->ops[script->pc++];

      switch (op->code)
        {
        case OP_END:
          return;
        case OP_YIELD:
          if (!weft_sleep (0, &error))
            {
              weft_task_return_error (task, error);
              return;
            }
          break;
        case OP_AWAIT:
          if (!weft_await (script->future, &error))
            {
              weft_task_return_error (task, error);
              return;
            }
          break;
        case OP_RETURN:
          weft_task_return_int64 (task, op->arg);
          return;
        case OP_FAIL:
          weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "failed"));
          return;
        default:
          run_plain_op (script, task, op);
        }
    }
}

/* Starts @script as a task of its kind, named after it. */
WeftTask *
weft_test_script_start (WeftTestScript *script,
                        WeftContext    *context,
                        WeftTaskFlags   flags)
{
  script->pc = 0;
  if (script->kind == KIND_FIBER)
    return weft_fiber_new_full (script->name, context, flags, script_fiber, script, NULL);
  return weft_task_new_full (script->name, context, flags, script_step, script, NULL);
}

void
weft_test_script_clear (WeftTestScript *script)
{
  g_clear_object (&script->spawned);
}
