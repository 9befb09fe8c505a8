/* weft-test-script.h — one little coroutine program, run as a fiber or as a
 * stackless task, for the context and eager-task tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-test-utils.h"

G_BEGIN_DECLS

typedef enum
{
  OP_END,               /* return with no value */
  OP_LOG,               /* log "<name>=<var>", or "<name>=unset" */
  OP_SET,               /* set var to arg */
  OP_YIELD,             /* sleep (0) */
  OP_AWAIT,             /* await the script's future */
  OP_SPAWN,             /* create the child script's task */
  OP_LOG_CURRENT,       /* log "<name>:current=<current task's name>" */
  OP_RETURN,            /* return arg */
  OP_FAIL,              /* return a G_IO_ERROR_FAILED error */
  OP_MARK,              /* log "<name><arg>" */
  OP_HOOK,              /* call the script's hook */
} WeftTestOpCode;

typedef struct
{
  WeftTestOpCode code;
  gint64         arg;
} WeftTestOp;

typedef struct _WeftTestScript WeftTestScript;

typedef void (*WeftTestHook) (WeftTestScript *script,
                              WeftTask       *task);

struct _WeftTestScript
{
  const char       *name;
  const WeftTestOp *ops;
  Kind              kind;
  GString          *log;
  WeftContextVar   *var;
  WeftFuture       *future;         /* for OP_AWAIT */
  WeftTestScript   *child;          /* for OP_SPAWN */
  WeftContext      *child_context;
  WeftTaskFlags     child_flags;
  WeftTask         *spawned;        /* owned */
  WeftTestHook      hook;           /* for OP_HOOK */
  gpointer          hook_data;
  guint             pc;
};

WeftTask *weft_test_script_start (WeftTestScript *script,
                                  WeftContext    *context,
                                  WeftTaskFlags   flags);
void      weft_test_script_clear (WeftTestScript *script);

G_END_DECLS
