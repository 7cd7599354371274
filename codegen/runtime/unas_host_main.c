/* A host driver for the generated model: reads inputs from stdin, one
 * record after another, and writes the results to stdout.
 *   unas_run logits    int8 inputs (UNAS_MODEL_INPUT_SIZE bytes each) ->
 *                      int8 logits (UNAS_MODEL_OUTPUT_SIZE bytes each)
 *   unas_run classify  uint8 images (raw-image models) -> one class byte each */
#include <stdio.h>
#include <string.h>

#include "unas_model.h"

int main(int argc, char** argv) {
  static int8_t input[UNAS_MODEL_INPUT_SIZE];
  static int8_t logits[UNAS_MODEL_OUTPUT_SIZE];
  const int classify = argc == 2 && strcmp(argv[1], "classify") == 0;
  if (argc != 2 || (!classify && strcmp(argv[1], "logits") != 0)) {
    fprintf(stderr, "usage: %s logits|classify < inputs > outputs\n", argv[0]);
    return 2;
  }
  while (fread(input, 1, sizeof input, stdin) == sizeof input) {
    if (classify) {
#if UNAS_MODEL_RAW_IMAGE_INPUT
      const unsigned char label = (unsigned char)unas_model_classify((const uint8_t*)input);
      if (fwrite(&label, 1, 1, stdout) != 1) return 1;
#else
      fprintf(stderr, "this model reads real-valued features, not raw images\n");
      return 2;
#endif
    } else {
      if (unas_model_run(input, logits) != 0) return 1;
      if (fwrite(logits, 1, sizeof logits, stdout) != sizeof logits) return 1;
    }
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
