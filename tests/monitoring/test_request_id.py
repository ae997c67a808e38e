"""The request id goes from the web request into the task it queues (message headers), onto
the task's log lines, and on into the tasks that task queues."""

from __future__ import annotations

import logging

import pytest
from celery import Celery
from celery.worker.request import Request as WorkerRequest
from django.http import HttpResponse
from django.test import RequestFactory

from core.log_filters import RequestIdFilter
from core.middleware import RequestIdMiddleware, current_request_id
from monitoring.celery_signals import HEADER

probe = Celery("request-id-probe", broker="memory://", set_as_current=False)
seen: dict[str, str] = {}
task_logger = logging.getLogger("tests.monitoring.probe")


@probe.task(name="probe.remember")
def remember() -> None:
    seen["request_id"] = current_request_id()
    task_logger.warning("the probe task ran")


@probe.task(name="probe.relay")
def relay() -> None:
    remember.delay()


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured():
    handler = Captured()
    task_logger.addHandler(handler)
    yield handler
    task_logger.removeHandler(handler)


def _queue_in_a_request(request_id_header: str) -> str:
    """A web request (through the real middleware) that queues the probe task."""
    def view(request):
        remember.delay()
        return HttpResponse("queued")

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID=request_id_header)
    response = RequestIdMiddleware(view)(request)
    return response["X-Request-ID"]


def _run_next_message(task=remember):
    with probe.connection_for_write() as connection:
        message = connection.SimpleQueue("celery").get(timeout=2)
        WorkerRequest(message, app=probe, task=task).execute()
    return message


def test_the_request_id_rides_in_the_task_message_and_is_on_the_tasks_log_lines(captured):
    answered = _queue_in_a_request("req-4f2a9c")
    assert answered == "req-4f2a9c"
    assert current_request_id() == ""  # outside the request: nothing bound

    message = _run_next_message()

    assert message.headers[HEADER] == "req-4f2a9c"
    assert seen["request_id"] == "req-4f2a9c"
    [record] = captured.records
    assert record.request_id == "req-4f2a9c"
    assert record.task_id == message.headers["id"]
    assert current_request_id() == ""  # unbound once the task is done


def test_an_insane_request_id_is_replaced_and_the_replacement_is_carried(captured):
    answered = _queue_in_a_request("bad id\nwith newline")
    assert answered != "bad id\nwith newline" and len(answered) == 32
    message = _run_next_message()
    assert message.headers[HEADER] == answered
    assert captured.records[0].request_id == answered


def test_a_task_queued_with_no_request_behind_it_carries_no_id(captured):
    remember.delay()
    message = _run_next_message()
    assert HEADER not in message.headers
    assert captured.records[0].request_id == "-"


def test_a_task_queued_by_a_task_carries_the_same_request_id_on(captured):
    def view(request):
        relay.delay()
        return HttpResponse("queued")

    RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="chain-7"))
    first = _run_next_message(task=relay)
    second = _run_next_message()
    assert first.headers[HEADER] == second.headers[HEADER] == "chain-7"
    assert captured.records[0].request_id == "chain-7"
