/* The Cortex-M SysTick timer as a 64-bit tick counter. It counts the core
 * clock: on a board one tick is one cycle; on QEMU's mps2-an386 run with
 * `-icount shift=0` (make run-qemu) the clock is 25 MHz of a virtual time
 * that advances 1 ns per executed instruction, so one tick is 40
 * instructions. */
#ifndef UNAS_CM4_SYSTICK_H_
#define UNAS_CM4_SYSTICK_H_

#include <stdint.h>

/* Instructions per tick on QEMU mps2-an386 with -icount shift=0. */
#define UNAS_QEMU_INSTRUCTIONS_PER_TICK 40

void unas_systick_start(void);
uint64_t unas_systick_now(void);
/* The SysTick exception: one more wrap of the 24-bit counter. */
void unas_systick_handler(void);

#endif /* UNAS_CM4_SYSTICK_H_ */
