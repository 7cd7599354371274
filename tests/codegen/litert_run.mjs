// Runs a .tflite model with LiteRT.js (@litertjs/core: Google's TensorFlow
// Lite runtime compiled to WebAssembly, CPU kernels by XNNPack) under Node.js:
//   UNAS_NODE_MODULES=DIR node litert_run.mjs MODEL INPUTS OUTPUTS
// INPUTS holds int8 inputs one after another (the model's input size each);
// OUTPUTS gets the int8 output of every input, one after another. DIR is the
// node_modules folder scripts/install-deps fills (.cache/node/node_modules).
//
// LiteRT.js is written for browsers: it loads its WebAssembly module with
// importScripts or a <script> tag, so the first is provided here. Its
// JavaScript Tensor class takes float32, int32 and uint8 only, so the int8
// tensors go through its lower-level WebAssembly bindings (the same calls the
// Tensor class makes).
import fs from 'fs';
import path from 'path';
import vm from 'vm';
import {createRequire} from 'module';

const modules = process.env.UNAS_NODE_MODULES;
const wasmDir = path.join(modules, '@litertjs', 'core', 'wasm');
globalThis.self = globalThis;
globalThis.require = createRequire(import.meta.url);
globalThis.__dirname = wasmDir;
globalThis.navigator = {};  // no WebGPU: the CPU (wasm) accelerator only
globalThis.importScripts = (url) => {
  vm.runInThisContext(fs.readFileSync(url.toString(), 'utf8'), {filename: url.toString()});
};

async function main() {
  const [modelPath, inputsPath, outputsPath] = process.argv.slice(2);
  // The runtime logs its set-up on stdout and stderr; only errors matter here.
  const quiet = [console.log, console.info, console.warn];
  console.log = console.info = console.warn = () => {};
  const {loadLiteRt} = await import(path.join(modules, '@litertjs', 'core', 'dist', 'index.js'));
  const liteRt = await loadLiteRt(wasmDir + '/');
  const wasm = liteRt.liteRtWasm;
  const env = liteRt.getDefaultEnvironment();
  const bytes = fs.readFileSync(modelPath);
  const modelPtr = wasm._malloc(bytes.length);
  wasm.HEAPU8.set(bytes, modelPtr);
  const model = wasm.loadModel(env.liteRtEnvironment, modelPtr, bytes.length);
  const compiled = await wasm.compileModel(env.liteRtEnvironment, model, {
    environment: env,
    accelerator: 'wasm',
    cpuOptions: {numThreads: 1},
    gpuOptions: {},
    webNNOptions: {},
  });
  [console.log, console.info, console.warn] = quiet;

  const inputType = model.getInputTensorType(0, 0);
  const inputSize = inputType.bytes();
  const inputs = fs.readFileSync(inputsPath);
  if (inputs.length % inputSize !== 0) {
    throw new Error(`${inputsPath}: ${inputs.length} bytes is no multiple of ${inputSize}`);
  }
  const input = wasm.LiteRtTensorBuffer.createManaged(
      env.liteRtEnvironment, wasm.LiteRtTensorBufferType.HOST_MEMORY, inputType, inputSize);
  const chunks = [];
  for (let offset = 0; offset < inputs.length; offset += inputSize) {
    const at = input.lock(wasm.LiteRtTensorBufferLockMode.WRITE);
    wasm.HEAPU8.set(inputs.subarray(offset, offset + inputSize), at);
    input.unlock();
    const outputs = await compiled.run(0, [input]);
    const output = outputs[0];
    const from = output.lock(wasm.LiteRtTensorBufferLockMode.READ);
    chunks.push(Buffer.from(wasm.HEAPU8.slice(from, from + output.packedSize())));
    output.unlock();
    for (const o of outputs) o.delete();
  }
  fs.writeFileSync(outputsPath, Buffer.concat(chunks));
}

main().then(() => process.exit(0), (e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
