"""Candidates stopped early through unas_client.Client, against a real
unas-coordinator. This test is the worker (WorkerService over gRPC, no
unas-worker binary): two candidates complete with learning curves, a third
sends a poor curve in a heartbeat and is stopped by the median rule."""

import importlib
import importlib.util
import shutil
import tempfile
import unittest

import grpc

import coordinator_process as cp
from unas_client import Client, _stubs

# The client needs only the JobService; this test also plays the worker.
worker_pb2 = importlib.import_module("unas.v1.worker_service_pb2")
worker_pb2_grpc = importlib.import_module("unas.v1.worker_service_pb2_grpc")

SPEC = {
    "name": "python_stopping",
    "dataset": {"name": "DATASET_NAME_FASHION_MNIST"},
    "search_space": {"kind": "SEARCH_SPACE_KIND_CNN",
                     "cnn": {"max_conv_blocks": 3, "max_filters": 16}},
    "algorithm": {"aging_evolution": {"population_size": 6, "sample_size": 3}, "rounds": 10},
    "training": {"optimizer": {"kind": "OPTIMIZER_KIND_ADAM", "learning_rate": 0.001},
                 "epochs": 1},
    "bounds": {"error": 0.3, "peak_memory_bytes": 20000, "model_size_bytes": 20000},
    "automated_stopping": {"min_completed": 2, "grace_epochs": 0.5},
    "seed": 3,
}


def point(fraction, error):
    return _stubs.evaluation_pb2.CurvePoint(epoch_fraction=fraction, validation_error=error,
                                            training_seconds=10 * fraction)


class StoppingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="unas-python-stopping-")
        cls.coordinator, cls.address = cp.start_coordinator(cls.dir)
        cls.client = Client(cls.address)
        cls.job = cls.client.submit(SPEC)
        ws = worker_pb2
        channel = grpc.insecure_channel(cls.address)
        stub = worker_pb2_grpc.WorkerServiceStub(channel)
        me = stub.RegisterWorker(ws.RegisterWorkerRequest(name="curves", slots=1))
        ident = {"worker_id": me.worker_id, "worker_secret": me.worker_secret}
        for error in (0.3, 0.4):
            task = stub.AcquireTask(ws.AcquireTaskRequest(wait_seconds=5, **ident)).task
            result = _stubs.evaluation_pb2.EvaluationResult(validation_error=error - 0.1,
                                                            test_error=error - 0.1)
            result.curve.extend([point(0.5, error), point(1.0, error - 0.1)])
            stub.CompleteTask(ws.CompleteTaskRequest(
                lease_id=task.lease_id, job_id=task.job_id, candidate_id=task.candidate_id,
                result=result, **ident))
        task = stub.AcquireTask(ws.AcquireTaskRequest(wait_seconds=5, **ident)).task
        cls.stopped_id = task.candidate_id
        request = ws.HeartbeatRequest(lease_id=task.lease_id, progress_steps=1, **ident)
        request.curve.extend([point(0.5, 0.9)])
        cls.answer = stub.Heartbeat(request)
        channel.close()

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.coordinator.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_the_heartbeat_was_told_it_stopped(self):
        self.assertTrue(self.answer.stopped)
        self.assertFalse(self.answer.keep_going)
        self.assertIn("median stopping rule", self.answer.reason)

    def test_stopped_candidates_with_their_decision(self):
        stopped = self.client.stopped(self.job)
        self.assertEqual([c["candidate_id"] for c in stopped], [self.stopped_id])
        c = stopped[0]
        self.assertEqual(c["state"], "CANDIDATE_STATE_STOPPED")
        self.assertFalse(c["feasible"])
        d = c["stopping"]
        self.assertEqual(d["rule"], "median")
        self.assertAlmostEqual(d["epoch_fraction"], 0.5)
        self.assertAlmostEqual(d["candidate_error"], 0.9)
        self.assertAlmostEqual(d["threshold"], 0.35)
        self.assertEqual(d["completed_compared"], 2)
        self.assertEqual(len(c["evaluation"]["curve"]), 1)
        self.assertAlmostEqual(c["evaluation"]["validation_error"], 0.9)
        one = self.client.candidate(self.job, self.stopped_id)
        self.assertEqual(one["stopping"], d)

    def test_progress_and_history_count_them_apart(self):
        progress = self.client.status(self.job)["progress"]
        self.assertEqual(progress["candidates_stopped"], 1)
        self.assertEqual(progress["evaluations_done"], 2)
        self.assertEqual(len(self.client.history(self.job)), 2)
        self.assertEqual(len(self.client.history(self.job, include_stopped=True)), 3)

    @unittest.skipUnless(importlib.util.find_spec("pandas") is not None, "no pandas")
    def test_data_frame_columns(self):
        frame = self.client.stopped(self.job, frame=True)
        self.assertAlmostEqual(float(frame["stopping.threshold"][0]), 0.35)
        self.assertEqual(frame["state"][0], "CANDIDATE_STATE_STOPPED")


if __name__ == "__main__":
    unittest.main()
