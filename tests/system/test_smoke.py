import os

from conftest import RUN_DIR, ip_netns, pynetns


def test_add_list_delete_matches_ip(netns_name):
    r = pynetns("add", netns_name)
    assert r.triple() == (0, b"", b"")
    assert os.path.exists(f"{RUN_DIR}/{netns_name}")
    assert ip_netns("list").out == pynetns("list").out
    assert pynetns("delete", netns_name).triple() == (0, b"", b"")
    assert not os.path.exists(f"{RUN_DIR}/{netns_name}")
