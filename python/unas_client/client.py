"""The coordinator's JobService from Python: what unasctl does, as values.

Jobs are named by id (3 or "3"), by name (the newest job of that name, as in
unasctl), or by a dict or DataFrame row holding "job_id" (as status and jobs
return them); candidates by id, or by a dict or row holding "candidate_id".
"""

import ipaddress
import numbers
import os
import time
import warnings

import grpc

from . import _stubs
from .convert import to_dict, to_frame
from .errors import NotFoundError, UnasError, from_rpc_error
from .export import write_export
from .spec import load_spec

pb = _stubs.job_service_pb2
job_pb = _stubs.job_pb2

DEFAULT_ADDRESS = "127.0.0.1:50051"
# The metadata key carrying "Bearer <token>", as unasctl and the workers send it.
AUTHORIZATION_KEY = "authorization"
# Exports carry trained weights: as large as unasctl accepts.
_MAX_MESSAGE = 256 << 20

_OBJECTIVES = {
    "error": "OBJECTIVE_ERROR",
    "pmu": "OBJECTIVE_PEAK_MEMORY",
    "memory": "OBJECTIVE_PEAK_MEMORY",
    "size": "OBJECTIVE_MODEL_SIZE",
    "macs": "OBJECTIVE_MACS",
}


class Client:
    """A connection to unas-coordinator.

    address: HOST:PORT (default $UNAS_COORDINATOR, else 127.0.0.1:50051).
    token: the client token, sent as "authorization: Bearer <token>" on every
        call; token_file: a file holding it (default $UNAS_TOKEN_FILE).
    tls: False for plaintext, True for TLS verified against the system's CAs,
        or the path of the PEM CA that signed the coordinator's certificate
        (default $UNAS_TLS_CA, else plaintext). tls_server_name: the name to
        check in the certificate instead of the address's host.
    timeout: seconds each call may take (watch() has its own).
    unasctl: the unasctl program export() runs for the C project (default:
        $UNAS_UNASCTL, PATH, then the repository's build/bin).
    """

    def __init__(self, address=None, token=None, tls=None, *, token_file=None,
                 tls_server_name=None, timeout=30.0, unasctl=None):
        self.address = address or os.environ.get("UNAS_COORDINATOR") or DEFAULT_ADDRESS
        self.timeout = timeout
        self.unasctl = unasctl
        if token is None:
            token_file = token_file or os.environ.get("UNAS_TOKEN_FILE")
            if token_file:
                token = _read_token(token_file)
        if tls is None:
            tls = os.environ.get("UNAS_TLS_CA") or False
        self._metadata = ((AUTHORIZATION_KEY, "Bearer " + token),) if token else ()
        options = [("grpc.max_receive_message_length", _MAX_MESSAGE),
                   ("grpc.max_send_message_length", _MAX_MESSAGE)]
        if tls:
            ca = _read_ca(tls) if isinstance(tls, (str, os.PathLike)) else None
            if tls_server_name:
                options.append(("grpc.ssl_target_name_override", tls_server_name))
            self._channel = grpc.secure_channel(
                self.address, grpc.ssl_channel_credentials(root_certificates=ca), options)
        else:
            if token and not _is_loopback(self.address):
                warnings.warn("sending the token to %s without TLS: anyone on the network can "
                              "read it (pass tls=CA.pem)" % self.address, stacklevel=2)
            self._channel = grpc.insecure_channel(self.address, options)
        self.stub = _stubs.job_service_pb2_grpc.JobServiceStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- jobs ----------------------------------------------------------------

    def submit(self, spec):
        """Submits a spec (a path, textproto text, a dict or a JobSpec); its job id.

        The coordinator fills defaults and validates: a bad spec raises
        InvalidArgumentError whose message and `fields` name every bad field.
        """
        request = pb.SubmitJobRequest(spec=load_spec(spec))
        return self._call("SubmitJob", request).job_id

    def jobs(self, frame=False):
        """Every job in the coordinator's store, as dicts (or a DataFrame)."""
        rows = [to_dict(j) for j in self._call("ListJobs", pb.ListJobsRequest()).jobs]
        return to_frame(rows, job_pb.Job) if frame else rows

    def status(self, job):
        """The job: spec, state, progress (evaluations_done, best_feasible_error, ...)."""
        return to_dict(self._call("GetJob", pb.GetJobRequest(job_id=self.job_id(job))))

    def cancel(self, job):
        """Stops the job's search; the job as it is then."""
        return to_dict(self._call("CancelJob", pb.CancelJobRequest(job_id=self.job_id(job))))

    def watch(self, job, timeout=None):
        """Yields the job's events (dicts of JobEvent: progress, state, and one
        of candidate_done / candidate_failed / candidate_requeued) until the
        job ends; the last one has the final state. A stream cut short (e.g.
        the coordinator restarted) is resumed. `timeout`: seconds in all,
        then TimeoutError."""
        job_id = self.job_id(job)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            call = self.stub.WatchJob(pb.WatchJobRequest(job_id=job_id), timeout=left,
                                      metadata=self._metadata)
            try:
                for event in call:
                    yield to_dict(event)
                    if event.state != job_pb.JOB_STATE_RUNNING:
                        return
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and deadline is not None:
                    raise TimeoutError("job %d still running after %g s" % (job_id, timeout)) \
                        from None
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise from_rpc_error(e, self.address) from None
            finally:
                call.cancel()
            # The stream ended without a final state: resume unless the job ended.
            state = self._call("GetJob", pb.GetJobRequest(job_id=job_id))
            if state.state != job_pb.JOB_STATE_RUNNING:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("job %d still running after %g s" % (job_id, timeout))
            time.sleep(0.5)  # a coordinator that is restarting: do not spin

    # --- candidates ------------------------------------------------------------

    def population(self, job, frame=False):
        """The current aging-evolution population, in evaluation order."""
        request = pb.ListCandidatesRequest(job_id=self.job_id(job), population_only=True,
                                           order=pb.CANDIDATE_ORDER_FINISH_TIME)
        return self._candidates(request, frame)

    def history(self, job, all=False, frame=False, include_stopped=False):
        """Every evaluation (DONE candidates) in completion order; all=True: every
        candidate in any state, in proposal order. include_stopped=True: with the
        candidates stopped early (STOPPED), in the order the search saw them."""
        request = pb.ListCandidatesRequest(job_id=self.job_id(job))
        if not all:
            request.states.append(job_pb.CANDIDATE_STATE_DONE)
            if include_stopped:
                request.states.append(job_pb.CANDIDATE_STATE_STOPPED)
            request.order = pb.CANDIDATE_ORDER_FINISH_TIME
        return self._candidates(request, frame)

    def stopped(self, job, frame=False):
        """The candidates the automated stopping rule stopped early (state
        "CANDIDATE_STATE_STOPPED"), in the order they were stopped. Each has
        `stopping` (rule, epoch_fraction, candidate_error, threshold,
        completed_compared) and an `evaluation` with the partial learning curve
        (`curve`), its best curve error as validation_error and the training
        seconds spent; the job's progress counts them as candidates_stopped."""
        request = pb.ListCandidatesRequest(job_id=self.job_id(job),
                                           order=pb.CANDIDATE_ORDER_FINISH_TIME)
        request.states.append(job_pb.CANDIDATE_STATE_STOPPED)
        return self._candidates(request, frame)

    def pareto(self, job, objectives=None, include_infeasible=False, use_test_error=True,
               frame=False):
        """The non-dominated DONE candidates, sorted by error.

        objectives: a subset of "error", "pmu", "size", "macs" (default all
        four); include_infeasible: also candidates that violate a bound;
        use_test_error: rank by test error (as `unasctl pareto` does) rather
        than validation error.
        """
        request = pb.GetParetoFrontRequest(job_id=self.job_id(job),
                                           include_infeasible=include_infeasible,
                                           use_test_error=use_test_error)
        for name in objectives or ():
            key = _OBJECTIVES.get(name.strip().lower())
            if key is None:
                raise ValueError("objectives: unknown objective '%s' (use error, pmu, size, "
                                 "macs)" % name)
            request.objectives.append(_stubs.metrics_pb2.Objective.Value(key))
        rows = [to_dict(c) for c in self._call("GetParetoFront", request).candidates]
        return to_frame(rows, job_pb.Candidate) if frame else rows

    def candidate(self, job, candidate):
        """One candidate: architecture, metrics, evaluation, lineage (parent_id)."""
        request = pb.GetCandidateRequest(job_id=self.job_id(job),
                                         candidate_id=_candidate_id(candidate))
        return to_dict(self._call("GetCandidate", request))

    def export(self, job, candidate, dir, format="all"):
        """Writes a candidate's files into `dir` as `unasctl export` does (see
        unas_client.export for the formats); the paths written, relative to dir."""
        request = pb.ExportCandidateRequest(job_id=self.job_id(job),
                                            candidate_id=_candidate_id(candidate))
        return write_export(self._call("ExportCandidate", request), dir, format, self.unasctl)

    def workers(self, include_inactive=False, frame=False):
        """Workers known to the coordinator (by default those heard from recently)."""
        response = self._call("ListWorkers",
                              pb.ListWorkersRequest(include_inactive=include_inactive))
        rows = [to_dict(w) for w in response.workers]
        return to_frame(rows, job_pb.WorkerInfo) if frame else rows

    # --- plumbing ----------------------------------------------------------------

    def job_id(self, job):
        """The id of a job named by id, by name (the newest of that name), or by a
        dict or DataFrame row holding "job_id"."""
        if isinstance(job, numbers.Integral):
            return int(job)
        if isinstance(job, str) and job.isdigit():
            return int(job)
        if not isinstance(job, str):
            return int(_field(job, "job_id", "job"))
        ids = [j.job_id for j in self._call("ListJobs", pb.ListJobsRequest()).jobs
               if j.spec.name == job]
        if not ids:
            raise NotFoundError("no job named '%s' at %s" % (job, self.address))
        return max(ids)

    def _candidates(self, request, frame):
        request.page_size = 1000
        rows = []
        while True:
            response = self._call("ListCandidates", request)
            rows.extend(to_dict(c) for c in response.candidates)
            if not response.next_page_token:
                return to_frame(rows, job_pb.Candidate) if frame else rows
            request.page_token = response.next_page_token

    def _call(self, method, request):
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout,
                                              metadata=self._metadata)
        except grpc.RpcError as e:
            raise from_rpc_error(e, self.address) from None


def _candidate_id(candidate):
    """A candidate's id from the id, or a dict or DataFrame row holding "candidate_id"."""
    if isinstance(candidate, (numbers.Integral, str)):
        return int(candidate)
    return int(_field(candidate, "candidate_id", "candidate"))


def _field(value, key, what):
    try:
        return value[key]
    except (TypeError, KeyError, IndexError):
        raise TypeError("%s: an id, or a dict or DataFrame row with \"%s\", not %s"
                        % (what, key, type(value).__name__)) from None


def _read_token(path):
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as e:
        raise UnasError("token file %s: cannot read: %s" % (path, e.strerror)) from None
    if not token:
        raise UnasError("token file %s is empty" % path)
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        warnings.warn("token file %s is readable by others than its owner (mode %o); chmod 600 it"
                      % (path, mode), stacklevel=3)
    return token


def _read_ca(path):
    try:
        with open(path, "rb") as f:
            pem = f.read()
    except OSError as e:
        raise UnasError("TLS CA file %s: cannot read: %s" % (path, e.strerror)) from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise UnasError("TLS CA file %s holds no PEM certificate" % path)
    return pem


def _is_loopback(address):
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
