"""Two writers replacing one run file at once (a worker recording its end while a submit on
another host records a job id): each writes a temporary file of its own, so neither renames
the other's half-written file nor fails on it; the file is always one writer's whole JSON.
Before, both wrote ``<file>.tmp``: one writer's rename took the other's file away
(FileNotFoundError) or published its half."""
import json
import threading

from ionmd.protocols.run_settings import replace_json


def test_concurrent_writers_leave_one_whole_file_and_no_error(tmp_path):
    path = tmp_path / "sweep.json"
    payloads = [{"writer": w, "pad": "x" * (2000 * (w + 1))} for w in range(6)]
    errors = []

    def write(payload):
        try:
            for _ in range(40):
                replace_json(path, payload)
        except Exception as exc:        # noqa: BLE001 - any failure is the test's finding
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert json.loads(path.read_text()) in payloads
    assert not list(tmp_path.glob("*.tmp"))
