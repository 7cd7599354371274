"""unas_client.Client against a real unas-coordinator with two synthetic
workers: submit, watch to completion, history, population, the Pareto front
(as dicts and DataFrames), export, the errors, a coordinator that requires a
client token, one with TLS, and the example of docs/python.md."""

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import warnings

from google.protobuf import text_format

import coordinator_process as cp
from unas_client import (AuthenticationError, Client, ExportWarning, FailedPreconditionError,
                         InvalidArgumentError, NotFoundError, UnasError, UnavailableError)
from unas_client import _stubs
from unas_client.convert import to_dict

ROUNDS = 20
POPULATION = 6
SPEC = {
    "name": "python_client_test",
    "dataset": {"name": "DATASET_NAME_FASHION_MNIST"},
    "search_space": {"kind": "SEARCH_SPACE_KIND_CNN",
                     "cnn": {"max_conv_blocks": 3, "max_filters": 16}},
    "algorithm": {"aging_evolution": {"population_size": POPULATION, "sample_size": 3},
                  "rounds": ROUNDS},
    "training": {"optimizer": {"kind": "OPTIMIZER_KIND_ADAM", "learning_rate": 0.001},
                 "epochs": 1},
    "bounds": {"error": 0.3, "peak_memory_bytes": 20000, "model_size_bytes": 20000},
    "seed": 9,
}


def have_matplotlib():
    return importlib.util.find_spec("matplotlib") is not None


def have_pandas():
    return importlib.util.find_spec("pandas") is not None


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="unas-python-client-")
        cls.processes = []
        cls.coordinator, cls.address = cp.start_coordinator(cls.dir)
        cls.processes.append(cls.coordinator)
        for i in range(2):
            cls.processes.append(cp.start_worker(cls.dir, cls.address, "synthetic%d" % i))
        cls.client = Client(cls.address)
        # Both workers registered before the (fast) job starts.
        cp.wait_for(lambda: len(cls.client.workers()) == 2, 60, "two registered workers")
        cls.job = cls.client.submit(SPEC)
        cls.events = list(cls.client.watch(cls.job, timeout=240))

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        for process in reversed(cls.processes):
            process.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_watch_follows_the_job_to_completion(self):
        last = self.events[-1]
        self.assertEqual(last["state"], "JOB_STATE_SUCCEEDED")
        self.assertEqual(last["progress"]["evaluations_done"], ROUNDS)
        self.assertTrue(all(e["job_id"] == self.job for e in self.events))
        self.assertTrue(any("candidate_done" in e for e in self.events))
        # Finished: watching again yields the final state at once.
        again = list(self.client.watch(self.job, timeout=30))
        self.assertEqual(again[-1]["state"], "JOB_STATE_SUCCEEDED")
        status = self.client.status(self.job)
        self.assertEqual(status["state"], "JOB_STATE_SUCCEEDED")
        self.assertEqual(status["progress"]["rounds"], ROUNDS)
        self.assertIsInstance(status["progress"]["best_feasible_error"], float)
        self.assertEqual(status["spec"]["training"]["epochs"], 1)
        # By name, by numeric string, by dict.
        self.assertEqual(self.client.job_id("python_client_test"), self.job)
        self.assertEqual(self.client.status(str(self.job))["job_id"], self.job)
        self.assertEqual(self.client.status(status)["job_id"], self.job)
        self.assertIn(self.job, [j["job_id"] for j in self.client.jobs()])
        with self.assertRaises(TypeError):
            self.client.status(1.5)

    def test_history_population_and_pareto_front(self):
        history = self.client.history(self.job)
        self.assertEqual(len(history), ROUNDS)
        self.assertTrue(all(c["state"] == "CANDIDATE_STATE_DONE" for c in history))
        finish = [c["finish_time"] for c in history]
        self.assertEqual(finish, sorted(finish))
        self.assertIsInstance(history[0]["metrics"]["peak_memory_bytes"], int)
        self.assertGreaterEqual(len(self.client.history(self.job, all=True)), ROUNDS)
        population = self.client.population(self.job)
        self.assertEqual(len(population), POPULATION)
        # The population is the last evaluations of the history.
        self.assertEqual([c["candidate_id"] for c in population],
                         [c["candidate_id"] for c in history[-POPULATION:]])

        front = self.client.pareto(self.job)
        self.assertGreater(len(front), 0)
        self.assertTrue(all(c["feasible"] for c in front))
        errors = [c["evaluation"]["test_error"] for c in front]
        self.assertEqual(errors, sorted(errors))
        self.assertLessEqual({c["candidate_id"] for c in front},
                             {c["candidate_id"] for c in history})
        wider = self.client.pareto(self.job, objectives=["error", "size"],
                                   include_infeasible=True)
        self.assertGreater(len(wider), 0)
        with self.assertRaises(ValueError):
            self.client.pareto(self.job, objectives=["flops"])

    @unittest.skipUnless(have_pandas(), "pandas (python3-pandas) is not installed")
    def test_data_frames(self):
        frame = self.client.pareto(self.job, frame=True)
        self.assertEqual(len(frame), len(self.client.pareto(self.job)))
        for column in ("candidate_id", "evaluation.test_error", "metrics.peak_memory_bytes",
                       "metrics.model_size_bytes"):
            self.assertIn(column, frame.columns)
        self.assertEqual(len(self.client.history(self.job, frame=True)), ROUNDS)
        self.assertEqual(len(self.client.population(self.job, frame=True)), POPULATION)

    def test_export_the_best_candidate(self):
        best = self.client.pareto(self.job)[0]
        out = os.path.join(self.dir, "export")
        # Synthetic workers store no weights and no int8 model: "all" writes
        # what there is and warns about the rest.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            written = self.client.export(self.job, best, out)
        self.assertEqual(written, ["architecture.textproto", "candidate.json"])
        said = " ".join(str(w.message) for w in caught if w.category is ExportWarning)
        self.assertIn("trained weights", said)
        self.assertIn("int8 model", said)
        with open(os.path.join(out, "candidate.json")) as f:
            self.assertEqual(int(json.load(f)["candidate_id"]), best["candidate_id"])
        with open(os.path.join(out, "architecture.textproto")) as f:
            architecture = text_format.Parse(f.read(), _stubs.architecture_pb2.Architecture())
        self.assertEqual(to_dict(architecture), best["architecture"])
        # A format named explicitly that the candidate lacks is an error,
        # and nothing is written.
        with self.assertRaises(FailedPreconditionError) as e:
            self.client.export(self.job, best["candidate_id"], os.path.join(self.dir, "x"),
                               format="torch")
        self.assertIn("trained weights", str(e.exception))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "x")))
        # .tflite is built from the int8 model, which synthetic workers do
        # not store; a format the client does not know is a ValueError.
        with self.assertRaises(FailedPreconditionError) as e:
            self.client.export(self.job, best, os.path.join(self.dir, "t"), format="tflite")
        self.assertIn("int8 model", str(e.exception))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "t")))
        with self.assertRaises(ValueError):
            self.client.export(self.job, best, out, format="tflm")

    @unittest.skipUnless(have_pandas() and have_matplotlib(),
                         "pandas and matplotlib (python3-pandas, python3-matplotlib) are needed")
    def test_the_example_of_docs_python_md_runs(self):
        # Its ```python blocks, in order, against this coordinator. Its spec
        # is the shipped one with looser bounds: how many synthetic
        # candidates meet the real bounds depends on the order two workers
        # finish in, and an empty front would leave nothing to export.
        source = os.environ["UNAS_SOURCE_DIR"]
        with open(os.path.join(source, "docs", "python.md")) as f:
            blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        example = "\n".join(blocks[1:])  # the first block only shows the import
        self.assertIn("client.submit(", example)
        example = example.replace('"127.0.0.1:50051"', repr(self.address))
        run_dir = os.path.join(self.dir, "example")
        os.mkdir(run_dir)
        os.makedirs(os.path.join(run_dir, "configs"))
        with open(os.path.join(run_dir, "configs", "fashion_mnist_quick.textproto"), "w") as f:
            f.write('base: "%s" clear_from_base: "bounds" bounds { error: 0.95 }'
                    % os.path.join(source, "configs", "fashion_mnist_quick.textproto"))
        os.environ["MPLBACKEND"] = "Agg"  # no display
        cwd = os.getcwd()
        os.chdir(run_dir)
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore", ExportWarning)
                scope = {}
                exec(compile(example, "docs/python.md", "exec"), scope)
        finally:
            os.chdir(cwd)
        self.assertEqual(self.client.status(scope["job"])["state"], "JOB_STATE_SUCCEEDED")
        self.assertGreater(os.path.getsize(os.path.join(run_dir, "pareto.png")), 1000)
        self.assertTrue(os.path.isfile(os.path.join(run_dir, "out", "best", "candidate.json")))

    def test_errors_carry_the_server_message(self):
        bad = dict(SPEC, name="bad")
        bad["training"] = {"optimizer": {"kind": "OPTIMIZER_KIND_ADAM"}}  # no epochs, no LR
        with self.assertRaises(InvalidArgumentError) as e:
            self.client.submit(bad)
        self.assertIn("training.epochs", str(e.exception))
        self.assertIn("training.epochs", e.exception.fields)
        self.assertIn("training.optimizer.learning_rate", e.exception.fields)
        with self.assertRaises(NotFoundError):
            self.client.status(987654)
        with self.assertRaises(NotFoundError):
            self.client.candidate(self.job, 987654)
        with self.assertRaises(NotFoundError):
            self.client.status("no_such_job")
        with self.assertRaises(FailedPreconditionError):
            self.client.cancel(self.job)  # already finished
        with self.assertRaises(UnavailableError) as e:
            Client("127.0.0.1:1", timeout=5).jobs()
        self.assertIn("127.0.0.1:1", str(e.exception))


class TokenTest(unittest.TestCase):
    """A coordinator that requires a client token (on loopback, without TLS)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="unas-python-token-")
        cls.token_file = os.path.join(cls.dir, "client.token")
        with open(cls.token_file, "w") as f:
            f.write("s3cret-client\n")
        os.chmod(cls.token_file, 0o600)  # else the coordinator and unasctl warn
        cls.coordinator, cls.address = cp.start_coordinator(
            cls.dir, ["--client-token-file", cls.token_file])

    @classmethod
    def tearDownClass(cls):
        cls.coordinator.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_token_is_required_and_accepted(self):
        with self.assertRaises(AuthenticationError):
            Client(self.address).jobs()
        with self.assertRaises(AuthenticationError):
            Client(self.address, token="wrong").jobs()
        self.assertIsInstance(Client(self.address, token="s3cret-client").jobs(), list)
        self.assertIsInstance(Client(self.address, token_file=self.token_file).jobs(), list)

    def test_spec_files_reach_the_server_as_unasctl_sends_them(self):
        # Configs with a base spec, submitted by unasctl and by the client,
        # are stored the same. No workers: the jobs just wait, then are cancelled.
        client = Client(self.address, token_file=self.token_file)
        configs = os.path.join(os.environ["UNAS_SOURCE_DIR"], "configs")
        for name in ("cnn_mnist_aging_no_pmu.textproto", "cnn_cifar10_binary_sparse.textproto"):
            path = os.path.join(configs, name)
            ours = client.submit(path)
            run = subprocess.run([os.environ["UNAS_UNASCTL"], "submit", path, "--coordinator",
                                  self.address, "--token-file", self.token_file],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(run.returncode, 0, run.stderr)
            theirs = int(run.stdout.split()[-1])  # the last line: the job id
            self.assertEqual(client.status(ours)["spec"], client.status(theirs)["spec"], name)
            if have_pandas():  # no evaluations yet: an empty front, with its columns
                front = client.pareto(ours, frame=True)
                self.assertEqual(len(front), 0)
                self.assertIn("evaluation.test_error", front.columns)
            for job in (ours, theirs):
                self.assertEqual(client.cancel(job)["state"], "JOB_STATE_CANCELLED")


class TlsTest(unittest.TestCase):
    """A coordinator with TLS and both tokens, as deploy/tls/make-certs sets it up."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="unas-python-tls-")
        cls.certs = os.path.join(cls.dir, "certs")
        subprocess.run(["/bin/bash", os.path.join(os.environ["UNAS_SOURCE_DIR"], "deploy", "tls",
                                                   "make-certs"), cls.certs, "localhost"],
                       check=True, capture_output=True, timeout=120)
        cls.coordinator, cls.address = cp.start_coordinator(
            cls.dir, ["--tls-cert", cls.cert("server.pem"), "--tls-key",
                      cls.cert("server-key.pem"), "--worker-token-file", cls.cert("worker.token"),
                      "--client-token-file", cls.cert("client.token")])

    @classmethod
    def tearDownClass(cls):
        cls.coordinator.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def cert(cls, name):
        return os.path.join(cls.certs, name)

    def test_tls_with_the_client_token(self):
        client = Client(self.address, tls=self.cert("ca.pem"),
                        token_file=self.cert("client.token"))
        self.assertIsInstance(client.jobs(), list)
        # The certificate names localhost and 127.0.0.1: tls_server_name is
        # checked instead of the address's host.
        named = Client(self.address, tls=self.cert("ca.pem"), tls_server_name="localhost",
                       token_file=self.cert("client.token"))
        self.assertIsInstance(named.jobs(), list)
        with self.assertRaises(UnavailableError):
            Client(self.address, tls=self.cert("ca.pem"), tls_server_name="elsewhere.example",
                   token_file=self.cert("client.token"), timeout=5).jobs()
        with self.assertRaises(AuthenticationError):
            Client(self.address, tls=self.cert("ca.pem")).jobs()
        with self.assertRaises(AuthenticationError) as e:
            Client(self.address, tls=self.cert("ca.pem"),
                   token_file=self.cert("worker.token")).jobs()
        self.assertIn("worker token", str(e.exception))
        with self.assertRaises(UnavailableError):
            Client(self.address, token_file=self.cert("client.token"), timeout=5).jobs()
        with self.assertRaises(UnasError) as e:
            Client(self.address, tls=self.cert("client.token"))
        self.assertIn("holds no PEM certificate", str(e.exception))


if __name__ == "__main__":
    unittest.main()
