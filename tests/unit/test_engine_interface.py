"""containers.Engine, the interface every engine client implements: what the base class
checks for all of them, whatever the subclass answers. No engine, no root needed."""
import pytest

from pynetns import containers
from pynetns.errors import EngineUnavailable, NoSuchContainer

ID = "ab" * 32


def answer(name="web", cid=ID):
    return {"Id": cid, "Name": f"/{name}", "State": {"Pid": 5, "Status": "running"}}


class Fake(containers.Engine):
    """An engine that answers every inspect with ``reply`` and records what it was asked."""

    name = "fake"

    def __init__(self, reply, seconds=None):
        super().__init__(seconds)
        self.reply, self.asked = reply, []

    def _inspect(self, ref, pods):
        self.asked.append(ref)
        return containers.Container(self.name, self.reply)


def test_the_clients_are_engines():
    for name in containers.ENGINES:
        cls = containers._CLIENTS[name]
        assert issubclass(cls, containers.Engine) and cls.name == name and cls.cgroup


@pytest.mark.parametrize("ref, asked", [("web", "web"), ("/web", "web"), (ID[:6], ID[:6])])
def test_inspect_asks_for_the_name_docker_prints_without_its_slash(ref, asked):
    engine = Fake(answer())
    assert engine.inspect(ref).name == "web" and engine.asked == [asked]


@pytest.mark.parametrize("ref", ["", "/"])
def test_no_name_is_not_asked_about(ref):
    engine = Fake(answer())
    with pytest.raises(NoSuchContainer, match="fake: no container named"):
        engine.inspect(ref)
    assert engine.asked == []


@pytest.mark.parametrize("ref", [".", "..", "a/../../json", "//web"])
def test_what_no_container_is_named_is_not_asked_about(ref):
    engine = Fake(answer())
    with pytest.raises(NoSuchContainer, match="fake: no such container"):
        engine.inspect(ref)
    assert engine.asked == []


def test_an_answer_about_another_container_is_refused():
    with pytest.raises(EngineUnavailable, match="fake: asked about 'db', it answered about"):
        Fake(answer("web")).inspect("db")


def test_one_deadline_per_request(monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert Fake(answer(), seconds=0.25).deadline().seconds == 0.25
    assert containers.engine("docker", containers.QUICK).deadline().seconds == containers.QUICK
    monkeypatch.setenv("PYNETNS_ENGINE_TIMEOUT", "7")
    assert containers.engine("docker").deadline().seconds == 7
