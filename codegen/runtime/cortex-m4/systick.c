#include "systick.h"

#define UNAS_SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define UNAS_SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define UNAS_SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define UNAS_SYST_RELOAD 0xFFFFFFu
#define UNAS_ICSR (*(volatile uint32_t*)0xE000ED04u)
#define UNAS_ICSR_PENDSTSET (1u << 26)

/* In .data, so that .bss stays exactly the model arena. */
__attribute__((section(".data"))) static volatile uint32_t unas_systick_wraps = 0;

void unas_systick_handler(void) { ++unas_systick_wraps; }

void unas_systick_start(void) {
  UNAS_SYST_CSR = 0;
  UNAS_SYST_RVR = UNAS_SYST_RELOAD;
  UNAS_SYST_CVR = 0;
  unas_systick_wraps = 0;
  /* Core clock, exception on every wrap, enabled. */
  UNAS_SYST_CSR = 7u;
  /* The counter loads the reload value on its first tick. */
  while (UNAS_SYST_CVR == 0u) {
  }
}

uint64_t unas_systick_now(void) {
  uint32_t wraps, value, pending;
  /* Read again when a wrap's exception came in between. */
  do {
    wraps = unas_systick_wraps;
    value = UNAS_SYST_CVR;
    pending = UNAS_ICSR & UNAS_ICSR_PENDSTSET;
  } while (wraps != unas_systick_wraps);
  /* A wrap whose exception is still pending: counted when the value read
   * comes after it (the counter restarted near the reload value). */
  if (pending != 0u && value > UNAS_SYST_RELOAD / 2u) ++wraps;
  return (uint64_t)wraps * (UNAS_SYST_RELOAD + 1u) + (UNAS_SYST_RELOAD - value);
}
