"""unas_client.load_spec without a server: every shipped config, the base and
clear_from_base rules, dicts and text, and the errors that name the field."""

import glob
import os
import tempfile
import unittest

import unas_client
from unas_client import SpecError, load_spec

CONFIGS = os.path.join(os.environ["UNAS_SOURCE_DIR"], "configs")


class LoadSpecTest(unittest.TestCase):
    def test_every_shipped_config_loads_with_its_base_resolved(self):
        paths = sorted(glob.glob(os.path.join(CONFIGS, "*.textproto")))
        self.assertGreater(len(paths), 10)
        for path in paths:
            spec = load_spec(path)
            self.assertEqual(spec.base, "", path)
            self.assertTrue(spec.name, path)
            self.assertNotEqual(spec.training.epochs, 0, path)

    def test_base_override_rules(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "base.textproto"), "w") as f:
                f.write('name: "b" bounds { error: 0.1 macs: 5 } seed: 3 '
                        'training { epochs: 4 lr_schedule { piecewise_constant { '
                        'boundaries: [1, 2] values: [0.1, 0.01, 0.001] } } }')
            os.mkdir(os.path.join(d, "v"))
            with open(os.path.join(d, "v", "variant.textproto"), "w") as f:
                f.write('base: "../base.textproto" name: "v" seed: 0 '
                        'clear_from_base: "bounds.macs" '
                        'training { lr_schedule { piecewise_constant { '
                        'boundaries: [5] values: [1, 2] } } }')
            spec = load_spec(os.path.join(d, "v", "variant.textproto"))
        self.assertEqual(spec.name, "v")
        self.assertTrue(spec.HasField("seed"))  # an explicit 0 overrides 3
        self.assertEqual(spec.seed, 0)
        self.assertEqual(spec.bounds.error, 0.1)  # messages merge field by field
        self.assertFalse(spec.bounds.HasField("macs"))  # cleared
        self.assertEqual(spec.training.epochs, 4)
        # Repeated fields replace as a whole, not append.
        self.assertEqual(list(spec.training.lr_schedule.piecewise_constant.boundaries), [5])
        self.assertEqual(list(spec.training.lr_schedule.piecewise_constant.values), [1, 2])
        self.assertEqual(list(spec.clear_from_base), [])

    def test_dict_and_text(self):
        as_dict = load_spec({"name": "d", "bounds": {"peak_memory_bytes": 2000},
                             "dataset": {"name": "DATASET_NAME_MNIST"}})
        as_text = load_spec('name: "d" bounds { peak_memory_bytes: 2000 } '
                            'dataset { name: DATASET_NAME_MNIST }')
        self.assertEqual(as_dict, as_text)
        self.assertEqual(load_spec(as_dict), as_dict)

    def test_errors_name_the_field(self):
        with self.assertRaises(SpecError) as e:
            load_spec({"name": "d", "bounds": {"peak_memory": 2000}})
        self.assertIn("peak_memory", str(e.exception))
        with self.assertRaises(SpecError) as e:
            load_spec('name: "t" training { epoch: 3 }')
        self.assertIn("epoch", str(e.exception))
        with self.assertRaises(SpecError) as e:
            load_spec('name: "t" base: "other.textproto"')
        self.assertIn("base", str(e.exception))
        with self.assertRaises(SpecError) as e:
            load_spec("/nonexistent/spec.textproto")
        self.assertIn("/nonexistent/spec.textproto", str(e.exception))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "loop.textproto")
            with open(path, "w") as f:
                f.write('base: "loop.textproto"')
            with self.assertRaises(SpecError) as e:
                load_spec(path)
            self.assertIn("include each other", str(e.exception))

    def test_invalid_argument_fields_from_a_server_message(self):
        error = unas_client.InvalidArgumentError(
            "invalid job spec 'x':\n  training.epochs is required\n  bounds.error must be in (0, 1]")
        self.assertEqual(error.fields, ["training.epochs", "bounds.error"])


if __name__ == "__main__":
    unittest.main()
