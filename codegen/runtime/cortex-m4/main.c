/* Runs the model on the test inputs embedded by the generator and reports:
 *   logits i: v v v ...   for the first UNAS_PRINTED_INPUTS inputs
 *   unas: N inputs, M differ, C correct, T ticks per inference (min A, max B)
 * (C only when the inputs came with labels), and exits with M, the number of
 * inputs whose logits differ from the reference interpreter's. T is the mean
 * SysTick count of one unas_model_run (systick.h: cycles on a board, 40
 * instructions per tick on QEMU with -icount shift=0). */
#include "semihost.h"
#include "systick.h"
#include "test_data.h"
#include "unas_model.h"

#define UNAS_PRINTED_INPUTS 8

#ifdef UNAS_PROFILE
/* -DUNAS_PROFILE: ticks of each operator of the first input, printed as
 * "op k: T ticks" (in .data: .bss stays the arena). */
__attribute__((section(".data"))) static uint64_t unas_profile_ticks[UNAS_MODEL_OPS] = {0};
__attribute__((section(".data"))) static uint64_t unas_profile_last = 0;
__attribute__((section(".data"))) static int32_t unas_profile_on = 1;

void unas_profile_op(int op) {
  const uint64_t now = unas_systick_now();
  if (unas_profile_on) unas_profile_ticks[op] = now - unas_profile_last;
  unas_profile_last = unas_systick_now();
}
#endif

static void append_text(char** out, const char* text) {
  while (*text != '\0') *(*out)++ = *text++;
}

static void append_int(char** out, int64_t v) {
  char digits[21];
  int n = 0;
  uint64_t magnitude = v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
  if (v < 0) *(*out)++ = '-';
  do {
    digits[n++] = (char)('0' + magnitude % 10u);
    magnitude /= 10u;
  } while (magnitude != 0u);
  while (n > 0) *(*out)++ = digits[--n];
}

int main(void) {
  /* On the stack: .bss holds the model arena and nothing else. */
  int8_t logits[UNAS_MODEL_OUTPUT_SIZE];
  char line[96 + 5 * UNAS_MODEL_OUTPUT_SIZE];
  int32_t i, k, mismatches = 0, correct = 0;
  uint64_t total = 0, fewest = ~(uint64_t)0, most = 0;
  unas_systick_start();
  for (i = 0; i < UNAS_TEST_INPUTS; ++i) {
    char* out = line;
    const uint64_t start = unas_systick_now();
    uint64_t ticks;
#ifdef UNAS_PROFILE
    unas_profile_last = start;
#endif
    unas_model_run(unas_test_inputs[i], logits);
    ticks = unas_systick_now() - start;
#ifdef UNAS_PROFILE
    if (i == 0) {
      unas_profile_on = 0;
      for (k = 0; k < UNAS_MODEL_OPS; ++k) {
        char* at = line;
        append_text(&at, "op ");
        append_int(&at, k);
        append_text(&at, ": ");
        append_int(&at, (int64_t)unas_profile_ticks[k]);
        append_text(&at, " ticks\n");
        *at = '\0';
        unas_semihost_write(line);
      }
    }
#endif
    total += ticks;
    fewest = ticks < fewest ? ticks : fewest;
    most = ticks > most ? ticks : most;
    for (k = 0; k < UNAS_MODEL_OUTPUT_SIZE; ++k) {
      if (logits[k] != unas_test_logits[i][k]) {
        ++mismatches;
        break;
      }
    }
#if UNAS_TEST_LABELS
    correct += unas_model_predict(logits) == unas_test_labels[i] ? 1 : 0;
#endif
    if (i >= UNAS_PRINTED_INPUTS) continue;
    append_text(&out, "logits ");
    append_int(&out, i);
    *out++ = ':';
    for (k = 0; k < UNAS_MODEL_OUTPUT_SIZE; ++k) {
      *out++ = ' ';
      append_int(&out, logits[k]);
    }
    *out++ = '\n';
    *out = '\0';
    unas_semihost_write(line);
  }
  {
    char* out = line;
    append_text(&out, "unas: ");
    append_int(&out, UNAS_TEST_INPUTS);
    append_text(&out, " inputs, ");
    append_int(&out, mismatches);
    append_text(&out, " differ, ");
#if UNAS_TEST_LABELS
    append_int(&out, correct);
    append_text(&out, " correct, ");
#endif
    append_int(&out, (int64_t)((total + UNAS_TEST_INPUTS / 2) / UNAS_TEST_INPUTS));
    append_text(&out, " ticks per inference (min ");
    append_int(&out, (int64_t)fewest);
    append_text(&out, ", max ");
    append_int(&out, (int64_t)most);
    append_text(&out, ")\n");
    *out = '\0';
    unas_semihost_write(line);
  }
  (void)correct;
  return mismatches;
}
