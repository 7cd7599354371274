"""Runs a .tflite model with Arm NN's TensorFlow Lite parser on its CpuRef
backend (Debian's python3-pyarmnn and libarmnn-cpuref-backend22, run with
/usr/bin/python3):
  armnn_run.py MODEL INPUTS OUTPUTS
INPUTS holds int8 inputs one after another (the model's input size each);
OUTPUTS gets the int8 output of every input. If Arm NN refuses the model, it
prints what it said and exits with status 3."""
import sys

import numpy as np
import pyarmnn as ann


def main():
    model_path, inputs_path, outputs_path = sys.argv[1:4]
    parser = ann.ITfLiteParser()
    try:
        network = parser.CreateNetworkFromBinaryFile(model_path)
        graph = 0
        input_name = parser.GetSubgraphInputTensorNames(graph)[0]
        output_name = parser.GetSubgraphOutputTensorNames(graph)[0]
        input_binding = parser.GetNetworkInputBindingInfo(graph, input_name)
        output_binding = parser.GetNetworkOutputBindingInfo(graph, output_name)
        runtime = ann.IRuntime(ann.CreationOptions())
        optimized, _ = ann.Optimize(network, [ann.BackendId("CpuRef")],
                                    runtime.GetDeviceSpec(), ann.OptimizerOptions())
        network_id, _ = runtime.LoadNetwork(optimized)
    except Exception as e:  # Arm NN raises RuntimeError with its message
        print(f"Arm NN refused the model: {e}")
        sys.exit(3)
    shape = tuple(input_binding[1].GetShape()[i]
                  for i in range(input_binding[1].GetNumDimensions()))
    size = int(np.prod(shape))
    data = np.fromfile(inputs_path, dtype=np.int8)
    if data.size % size != 0:
        sys.exit(f"{inputs_path}: {data.size} bytes is no multiple of {size}")
    outputs = []
    for x in data.reshape((-1,) + shape):
        input_tensors = ann.make_input_tensors([input_binding], [x.reshape(shape)])
        output_tensors = ann.make_output_tensors([output_binding])
        runtime.EnqueueWorkload(network_id, input_tensors, output_tensors)
        outputs.append(ann.workload_tensors_to_ndarray(output_tensors)[0].astype(np.int8).ravel())
    np.concatenate(outputs).tofile(outputs_path)


if __name__ == "__main__":
    main()
