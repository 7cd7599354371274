// Runs an ONNX model with ONNX Runtime (onnxruntime-node) on inputs stored
// one after another in a file: `node ort_run.js MODEL INPUTS OUTPUTS TYPE`,
// TYPE "int8" or "float32" for the graph input "input"; writes the raw bytes
// of the output "logits" of every input to OUTPUTS.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inputsPath, outputsPath, type] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);
  const bytes = fs.readFileSync(inputsPath);
  const shape = JSON.parse(process.env.UNAS_INPUT_SHAPE);
  const size = shape.reduce((a, b) => a * b, 1);
  const elementBytes = type === 'float32' ? 4 : 1;
  const count = bytes.length / (size * elementBytes);
  const chunks = [];
  for (let i = 0; i < count; ++i) {
    const slice = bytes.subarray(i * size * elementBytes, (i + 1) * size * elementBytes);
    const data = type === 'float32'
        ? new Float32Array(slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.length))
        : new Int8Array(slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.length));
    const result = await session.run({input: new ort.Tensor(type, data, shape)});
    const logits = result.logits.data;
    chunks.push(Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
  }
  fs.writeFileSync(outputsPath, Buffer.concat(chunks));
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
