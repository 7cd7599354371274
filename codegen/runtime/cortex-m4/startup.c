/* Start-up code for an Arm Cortex-M4 (QEMU's mps2-an386 board): the vector
 * table, .data copied from flash, .bss (the model arena) cleared, main(),
 * then the exit status reported through semihosting. SysTick (vector 15)
 * counts the ticks of the latency measurement. */
#include <stdint.h>

#include "semihost.h"
#include "systick.h"

extern uint8_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void unas_reset_handler(void) {
  /* Byte by byte: .bss is exactly the arena, whatever its size. */
  const uint8_t* from = &_sidata;
  uint8_t* to;
  for (to = &_sdata; to < &_edata;) *to++ = *from++;
  for (to = &_sbss; to < &_ebss;) *to++ = 0;
  unas_semihost_exit(main());
}

/* Any fault ends the run with a status no model check returns. */
void unas_fault_handler(void) { unas_semihost_exit(255); }

typedef void (*unas_vector)(void);

__attribute__((section(".isr_vector"), used))
const unas_vector unas_vectors[16] = {(unas_vector)(uintptr_t)&_estack,
                                      unas_reset_handler,
                                      unas_fault_handler,
                                      unas_fault_handler,
                                      unas_fault_handler,
                                      unas_fault_handler,
                                      unas_fault_handler,
                                      0,
                                      0,
                                      0,
                                      0,
                                      unas_fault_handler,
                                      unas_fault_handler,
                                      0,
                                      unas_fault_handler,
                                      unas_systick_handler};
