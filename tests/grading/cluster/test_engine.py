"""The engine's view of the cluster, on a stand-in client (no Dask needed)."""

from pixelschool_admin.grading.cluster.engine import Engine
from pixelschool_admin.grading.record.canary import canary_tasks


class FreshClient:
    """A client whose cached ``scheduler_info`` has no worker yet, as Dask's right after
    they start (it is refreshed every few seconds), while the scheduler knows two nodes."""

    def __init__(self):
        self.workers = {
            "tcp://10.0.0.7:40001": 1,
            "tcp://10.0.0.7:40002": 1,
            "tcp://10.0.0.9:40001": 1,
        }

    def subscribe_topic(self, topic, handler):
        pass

    def scheduler_info(self, **_):
        return {"workers": {}}

    def nthreads(self):
        return dict(self.workers)


def test_every_node_gets_a_canary_though_the_clients_copy_is_not_refreshed_yet(tmp_path):
    engine = Engine(FreshClient(), "tcp", attempts=3, log=lambda *_: None)
    assert engine.hosts() == ["10.0.0.7", "10.0.0.9"]
    (tmp_path / "source" / "hw").mkdir(parents=True)
    course = type("C", (), {"root": tmp_path})()
    canaries = canary_tasks(course, {"hw"}, engine.hosts())
    assert [(t.assignment, t.host, t.canary) for t in canaries] == [
        ("hw", "10.0.0.7", True),
        ("hw", "10.0.0.9", True),
    ]
