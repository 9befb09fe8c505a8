/* weft-fiber-switch-x86_64.S
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The fiber context switch for x86_64, System V ABI.
 *
 * A suspended context is only its stack pointer: what a callee must
 * preserve is pushed on the stack being left, 64 bytes laid out as
 * WeftFiberFrame in weft-fiber-context.c (keep the two in sync):
 *
 *   sp + 0    MXCSR (4 bytes), x87 control word (2 bytes), padding
 *   sp + 8    r15
 *   sp + 16   r14
 *   sp + 24   r13
 *   sp + 32   r12
 *   sp + 40   rbx
 *   sp + 48   rbp
 *   sp + 56   return address
 *
 * All of xmm0-15 are caller-saved, so the compiler has already spilled
 * whatever the caller needs from them.
 */

#if defined (__x86_64__) && defined (__ELF__)

	.text

/* WeftFiberContext *
 * weft_fiber_context_switch_raw (WeftFiberContext *from,     rdi
 *                                WeftFiberContext *to);      rsi
 *
 * Returns, on the side being resumed, the context that was left.
 */
	.p2align 4
	.globl	weft_fiber_context_switch_raw
	.hidden	weft_fiber_context_switch_raw
	.type	weft_fiber_context_switch_raw, @function
weft_fiber_context_switch_raw:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)

	/* The frame on the other stack has the same shape, so the unwind
	 * rules above stay true across the exchange.
	 */
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp

	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbp

	movq	%rdi, %rax
	ret
	.cfi_endproc
	.size	weft_fiber_context_switch_raw, . - weft_fiber_context_switch_raw

/* The first code on a fresh stack: the switch above "returns" here with
 * rax = the context that was left, r12 = entry and r13 = its argument,
 * and rsp 16-byte aligned.
 *
 * The return address is undefined for unwinders, which makes this the
 * outermost frame: debuggers and backtrace() stop here instead of reading
 * past the top of the stack.
 */
	.p2align 4
	.globl	weft_fiber_context_trampoline
	.hidden	weft_fiber_context_trampoline
	.type	weft_fiber_context_trampoline, @function
weft_fiber_context_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	movq	%rax, %rdi
	movq	%r12, %rsi
	movq	%r13, %rdx
	call	weft_fiber_context_boot
	ud2
	.cfi_endproc
	.size	weft_fiber_context_trampoline, . - weft_fiber_context_trampoline

#endif

	.section .note.GNU-stack,"",@progbits
