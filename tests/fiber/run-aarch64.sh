#!/bin/sh
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Cross-compiles test-fiber-switch.c with the aarch64 context switch and runs
# it under qemu, passing its TAP through.
#
#   run-aarch64.sh [asm|ucontext]
#
# AARCH64_CC and QEMU_AARCH64 override the cross compiler and the emulator.

set -eu

backend=${1:-asm}
cc=${AARCH64_CC:-aarch64-linux-gnu-gcc}
qemu=${QEMU_AARCH64:-qemu-aarch64}

here=$(cd "$(dirname "$0")" && pwd)
fiber="$here/../../lib/coroutines/fiber"

case "$backend" in
  asm)      sources="$fiber/weft-fiber-context.c $fiber/weft-fiber-switch-aarch64.S"; defines= ;;
  ucontext) sources="$fiber/weft-fiber-context.c"; defines=-DWEFT_FIBER_SWITCH_UCONTEXT ;;
  *)        echo "usage: $0 [asm|ucontext]" >&2; exit 2 ;;
esac

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# Static, so that qemu needs no aarch64 sysroot to run it.
# shellcheck disable=SC2086
"$cc" -O2 -g -static -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror \
  $defines -I"$fiber" -o "$workdir/test-fiber-switch" \
  "$here/test-fiber-switch.c" $sources -lm -pthread

"$qemu" "$workdir/test-fiber-switch"
