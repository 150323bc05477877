"""The person page in parts: an overview, the timeline a page at a time, a tab per domain part."""

from __future__ import annotations


def test_the_timeline_comes_a_page_at_a_time(login, people):
    om = login("om_lbm")
    whole = om.get(f"/api/v1/people/{people.birmingham}", params={"timeline_per_page": 200}).json()
    total = whole["timeline_total"]
    assert total == len(whole["timeline"]) >= 3
    second = om.get(f"/api/v1/people/{people.birmingham}", params={"timeline_page": 2, "timeline_per_page": 1}).json()
    assert second["timeline"] == whole["timeline"][1:2] and second["timeline_total"] == total
    assert om.get(f"/api/v1/people/{people.birmingham}", params={"timeline_per_page": 500}).status_code == 422


def test_tabs_show_their_part_and_a_bad_tab_is_a_plain_error(login, people):
    om = login("om_lbm")
    overview = om.get(f"/people/{people.birmingham}").text
    assert "Timeline: the latest events" in overview and 'aria-current="page">Overview' in overview
    timeline = om.get(f"/people/{people.birmingham}", params={"tab": "timeline"}).text
    assert "events, newest first" in timeline and "Murder" in timeline
    assert "Scores and their explanation" in om.get(f"/people/{people.birmingham}", params={"tab": "scores"}).text
    bad = om.get(f"/people/{people.birmingham}", params={"tab": "gossip"})
    assert bad.status_code == 400 and "no tab" in bad.text and "gossip" in bad.text
