/* weft-fiber-switch-aarch64.S
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The fiber context switch for aarch64, AAPCS64.
 *
 * A suspended context is only its stack pointer: what a callee must
 * preserve is stored on the stack being left, 176 bytes laid out as
 * WeftFiberFrame in weft-fiber-context.c (keep the two in sync):
 *
 *   sp + 0     x19 ... x28
 *   sp + 80    x29 (frame pointer), x30 (return address)
 *   sp + 96    d8 ... d15
 *   sp + 160   FPCR
 *   sp + 168   padding, so that sp stays 16-byte aligned
 *
 * x18 is the platform register and is left alone.
 */

#if defined (__aarch64__) && defined (__ELF__)

	.text

/* WeftFiberContext *
 * weft_fiber_context_switch_raw (WeftFiberContext *from,     x0
 *                                WeftFiberContext *to);      x1
 *
 * Returns, on the side being resumed, the context that was left.
 */
	.p2align 4
	.globl	weft_fiber_context_switch_raw
	.hidden	weft_fiber_context_switch_raw
	.type	weft_fiber_context_switch_raw, %function
weft_fiber_context_switch_raw:
	.cfi_startproc
	sub	sp, sp, #176
	.cfi_def_cfa_offset 176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	.cfi_offset x19, -176
	.cfi_offset x20, -168
	.cfi_offset x21, -160
	.cfi_offset x22, -152
	.cfi_offset x23, -144
	.cfi_offset x24, -136
	.cfi_offset x25, -128
	.cfi_offset x26, -120
	.cfi_offset x27, -112
	.cfi_offset x28, -104
	.cfi_offset x29, -96
	.cfi_offset x30, -88
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	.cfi_offset d8, -80
	.cfi_offset d9, -72
	.cfi_offset d10, -64
	.cfi_offset d11, -56
	.cfi_offset d12, -48
	.cfi_offset d13, -40
	.cfi_offset d14, -32
	.cfi_offset d15, -24
	mrs	x9, fpcr
	str	x9, [sp, #160]

	/* The frame on the other stack has the same shape, so the unwind
	 * rules above stay true across the exchange.
	 */
	mov	x10, sp
	str	x10, [x0]
	ldr	x10, [x1]
	mov	sp, x10

	/* Writing FPCR can stall the pipeline; most switches do not change it. */
	ldr	x10, [sp, #160]
	cmp	x9, x10
	b.eq	1f
	msr	fpcr, x10
1:
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	add	sp, sp, #176
	.cfi_def_cfa_offset 0
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x22
	.cfi_restore x23
	.cfi_restore x24
	.cfi_restore x25
	.cfi_restore x26
	.cfi_restore x27
	.cfi_restore x28
	.cfi_restore x29
	.cfi_restore x30
	.cfi_restore d8
	.cfi_restore d9
	.cfi_restore d10
	.cfi_restore d11
	.cfi_restore d12
	.cfi_restore d13
	.cfi_restore d14
	.cfi_restore d15

	/* x0 still holds the context that was left. */
	ret
	.cfi_endproc
	.size	weft_fiber_context_switch_raw, . - weft_fiber_context_switch_raw

/* The first code on a fresh stack: the switch above "returns" here with
 * x0 = the context that was left, x19 = entry and x20 = its argument,
 * and x29 = 0.
 *
 * The return address is undefined for unwinders, which makes this the
 * outermost frame: debuggers and backtrace() stop here instead of reading
 * past the top of the stack.
 */
	.p2align 4
	.globl	weft_fiber_context_trampoline
	.hidden	weft_fiber_context_trampoline
	.type	weft_fiber_context_trampoline, %function
weft_fiber_context_trampoline:
	.cfi_startproc
	.cfi_undefined x30
	mov	x1, x19
	mov	x2, x20
	bl	weft_fiber_context_boot
	brk	#0x1
	.cfi_endproc
	.size	weft_fiber_context_trampoline, . - weft_fiber_context_trampoline

#endif

	.section .note.GNU-stack,"",%progbits
