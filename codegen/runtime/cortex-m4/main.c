/* Runs the model on the test inputs embedded by the generator, prints each
 * input's logits ("logits i: v v v ...") and exits with the number of inputs
 * whose logits differ from the reference interpreter's. */
#include "semihost.h"
#include "test_data.h"
#include "unas_model.h"

static void append_int(char** out, int32_t v) {
  char digits[12];
  int n = 0;
  uint32_t magnitude = v < 0 ? (uint32_t)(-(v + 1)) + 1u : (uint32_t)v;
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
  char line[32 + 5 * UNAS_MODEL_OUTPUT_SIZE];
  int32_t i, k, mismatches = 0;
  for (i = 0; i < UNAS_TEST_INPUTS; ++i) {
    char* out = line;
    unas_model_run(unas_test_inputs[i], logits);
    for (k = 0; k < UNAS_MODEL_OUTPUT_SIZE; ++k) {
      if (logits[k] != unas_test_logits[i][k]) {
        ++mismatches;
        break;
      }
    }
    for (k = 0; "logits "[k] != '\0'; ++k) *out++ = "logits "[k];
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
  return mismatches;
}
