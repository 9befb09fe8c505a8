/* weft-tls-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/* Thread-local storage in the initial-exec model. A shared library's
 * thread-locals otherwise cost a call to __tls_get_addr() on every access,
 * on the scheduler's hottest paths. glibc keeps static TLS room for the few
 * bytes this needs even when the library is dlopen()ed, as language
 * bindings do. No GLib here: the fiber switch includes it too.
 */
#define WEFT_THREAD_LOCAL __thread __attribute__ ((__tls_model__ ("initial-exec")))
