#include "semihost.h"

enum { kSysWrite0 = 0x04, kSysExitExtended = 0x20, kApplicationExit = 0x20026 };

static int32_t semihost_call(int32_t operation, const void* argument) {
  register int32_t r0 __asm__("r0") = operation;
  register const void* r1 __asm__("r1") = argument;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void unas_semihost_write(const char* text) { (void)semihost_call(kSysWrite0, text); }

void unas_semihost_exit(int32_t status) {
  const int32_t block[2] = {kApplicationExit, status};
  (void)semihost_call(kSysExitExtended, block);
  for (;;) {
  }
}
