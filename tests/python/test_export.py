"""unas_client's export writer without a server, on a hand-made one-layer int8
model: the files of each format, the C project by `unasctl export-c` and
model.tflite by `unasctl export-tflite`, and the formats a candidate lacks or
the client does not write."""

import os
import shutil
import tempfile
import unittest
import warnings

from google.protobuf import text_format

from unas_client import ExportWarning, FailedPreconditionError
from unas_client import _stubs
from unas_client.export import write_export

ev = _stubs.evaluation_pb2


def one_dense_layer_model():
    """input [1, 4] -> fully connected -> logits [1, 2] (as int8/ lays it out)."""
    m = ev.QuantizedModel(input="input", output="logits")
    m.tensors.add(name="input", shape=[1, 4], scale=[1 / 255], zero_point=[-128])
    m.tensors.add(name="w", shape=[2, 4], scale=[0.01, 0.02], zero_point=[0, 0],
                  int8_data=bytes([1, 2, 3, 4, 255, 254, 253, 252]))
    m.tensors.add(name="b", shape=[2], scale=[0.01 / 255, 0.02 / 255], zero_point=[0, 0],
                  int32_data=[10, -10])
    m.tensors.add(name="logits", shape=[1, 2], scale=[0.05], zero_point=[3])
    m.ops.add(type=ev.QUANTIZED_OP_TYPE_FULLY_CONNECTED, inputs=["input", "w", "b"],
              output="logits", output_multiplier=[1 << 30, 1 << 30], output_shift=[-5, -4],
              activation_min=-128, activation_max=127)
    return m


def response(model=None, weights=b""):
    r = _stubs.job_service_pb2.ExportCandidateResponse(num_classes=2, trained_weights=weights)
    if model is not None:
        r.quantized_model.CopyFrom(model)
    r.candidate.job_id = 3
    r.candidate.candidate_id = 7
    r.architecture.mlp.layers.add()
    return r


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="unas-python-export-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_int8_torch_and_the_c_project(self):
        model = one_dense_layer_model()
        out = os.path.join(self.dir, "out")
        written = write_export(response(model, b"weights"), out, "c,int8,torch")
        for name in ("architecture.textproto", "candidate.json", "model.int8.pb",
                     "model.int8.textproto", "weights.pt", "c/unas_model.c", "c/unas_model.h",
                     "c/Makefile"):
            self.assertIn(name, written)
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        with open(os.path.join(out, "model.int8.pb"), "rb") as f:
            self.assertEqual(ev.QuantizedModel.FromString(f.read()), model)
        with open(os.path.join(out, "model.int8.textproto")) as f:
            self.assertEqual(text_format.Parse(f.read(), ev.QuantizedModel()), model)
        with open(os.path.join(out, "weights.pt"), "rb") as f:
            self.assertEqual(f.read(), b"weights")
        with open(os.path.join(out, "c", "unas_model.c")) as f:
            self.assertIn("job-3-candidate-7.int8.pb", f.read())
        # Nothing else is left in the export's parent folder.
        self.assertEqual(os.listdir(self.dir), ["out"])

    def test_tflite_by_unasctl_export_tflite(self):
        out = os.path.join(self.dir, "out")
        written = write_export(response(one_dense_layer_model()), out, "tflite")
        self.assertIn("model.tflite", written)
        with open(os.path.join(out, "model.tflite"), "rb") as f:
            self.assertEqual(f.read()[4:8], b"TFL3")  # TensorFlow Lite's file identifier
        self.assertNotIn("c/unas_model.c", written)
        with self.assertRaises(FailedPreconditionError) as e:
            write_export(response(), self.dir + "/none", "tflite")
        self.assertIn("int8 model", str(e.exception))

    def test_all_writes_what_there_is_and_warns_about_the_rest(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            written = write_export(response(one_dense_layer_model()), self.dir + "/all")
        self.assertIn("c/unas_model.c", written)
        self.assertIn("model.int8.pb", written)
        self.assertIn("model.tflite", written)
        self.assertNotIn("weights.pt", written)
        said = " ".join(str(w.message) for w in caught if w.category is ExportWarning)
        self.assertIn("trained weights", said)
        self.assertIn("unasctl export --format onnx", said)

    def test_formats_named_but_not_writable_are_errors(self):
        with self.assertRaises(FailedPreconditionError) as e:
            write_export(response(), self.dir + "/c", "c")
        self.assertIn("int8 model", str(e.exception))
        with self.assertRaises(FailedPreconditionError) as e:
            write_export(response(one_dense_layer_model()), self.dir + "/onnx", "onnx")
        self.assertIn("unasctl export --format onnx", str(e.exception))
        self.assertEqual(os.listdir(self.dir), [])
        with self.assertRaises(ValueError):
            write_export(response(), self.dir + "/x", "")


if __name__ == "__main__":
    unittest.main()
