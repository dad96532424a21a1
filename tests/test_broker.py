"""The embedded broker: a reader never sees half a message, and an unreadable one is set aside."""

import uuid

import pytest
from kombu import Connection

import config.celery_app  # noqa: F401  (registers the waybillfs transport)


@pytest.fixture(scope="module")
def broker_folder(tmp_path_factory):
    # kombu's virtual transports keep exchange state per process: one folder for the module.
    return tmp_path_factory.mktemp("broker")


@pytest.fixture
def broker(broker_folder):
    tmp_path = broker_folder
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
    }
    with Connection("waybillfs://", transport_options=options) as connection:
        yield connection, tmp_path, f"work-{uuid.uuid4().hex[:8]}"


def _put(connection, name: str, body: dict) -> None:
    with connection.SimpleQueue(name) as queue:
        queue.put(body)


def _files(folder, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(f".{name}.msg"))


def test_it_moves_a_message_into_the_queue_whole(broker):
    connection, root, name = broker

    _put(connection, name, {"n": 1})

    assert len(_files(root / "queue", name)) == 1
    assert _files(root / "staging", name) == []
    with connection.SimpleQueue(name) as queue:
        assert queue.get(timeout=1).payload == {"n": 1}


def test_it_never_reads_a_message_still_being_written(broker):
    connection, root, name = broker
    (root / "staging").mkdir(exist_ok=True)
    (root / "staging" / f"1_x.{name}.msg").write_bytes(b'{"body": "eyJu')  # half written

    with connection.SimpleQueue(name) as queue, pytest.raises(queue.Empty):
        queue.get(timeout=0.2)


def test_it_sets_an_unreadable_message_aside_and_reads_on(broker):
    connection, root, name = broker
    (root / "queue" / f"0_broken.{name}.msg").write_bytes(b'{"body": "eyJu')
    _put(connection, name, {"n": 2})

    with connection.SimpleQueue(name) as queue:
        assert queue.get(timeout=1).payload == {"n": 2}
    assert _files(root / "rejected", name) == [f"0_broken.{name}.msg"]
    assert _files(root / "queue", name) == []
