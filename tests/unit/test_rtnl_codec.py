"""_rtnl, the RTM_GETLINK/RTM_GETADDR dump codec, against pyroute2 on this namespace."""
from pyroute2 import IPRoute

from pynetns import _rtnl


def test_links_and_addresses_as_pyroute2_reads_them():
    with IPRoute() as ipr:
        theirs = {}
        for msg in ipr.get_links():
            info = msg.get_attr("IFLA_LINKINFO")
            theirs[msg["index"]] = {
                "name": msg.get_attr("IFLA_IFNAME"), "state": msg.get_attr("IFLA_OPERSTATE"),
                "kind": info.get_attr("IFLA_INFO_KIND") if info else None,
                "mac": msg.get_attr("IFLA_ADDRESS"), "link": msg.get_attr("IFLA_LINK"),
                "link_netnsid": msg.get_attr("IFLA_LINK_NETNSID"), "addresses": []}
        for msg in ipr.get_addr():
            address = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
            theirs[msg["index"]]["addresses"].append(f"{address}/{msg['prefixlen']}")
    ours = {x.index: {"name": x.name, "state": x.state, "kind": x.kind, "mac": x.mac,
                      "link": x.link, "link_netnsid": x.link_netnsid,
                      "addresses": x.addresses} for x in _rtnl.links()}
    assert ours == theirs
    assert any(x["name"] == "lo" for x in ours.values())
