/* Arm semihosting (a debugger or QEMU's -semihosting): text out, exit status. */
#ifndef UNAS_CM4_SEMIHOST_H_
#define UNAS_CM4_SEMIHOST_H_

#include <stdint.h>

void unas_semihost_write(const char* text);
/* Ends the program; QEMU exits with `status`. */
void unas_semihost_exit(int32_t status) __attribute__((noreturn));

#endif /* UNAS_CM4_SEMIHOST_H_ */
