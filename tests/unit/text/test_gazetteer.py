import pytest

from xinfang.text.gazetteer import Gazetteer, default_gazetteer

COUNTY = {
    "province": {"code": "35", "name": "福建省"},
    "city": {"code": "3504", "name": "三明市"},
    "county": {"code": "350428", "name": "将乐县"},
    "townships": [
        {
            "code": "350428101",
            "name": "万安镇",
            "aliases": [],
            "villages": [{"code": "350428101202", "name": "西垅村"}],
        },
        {
            "code": "350428106",
            "name": "光明镇",
            "aliases": ["光明乡"],
            "villages": [{"code": "350428106201", "name": "西垅村"}],
        },
    ],
}


@pytest.fixture
def gazetteer():
    return Gazetteer.from_data(COUNTY, "11\t北京市\tprovince\n340523\t和县\tcounty\n")


def test_it_resolves_village_to_its_township(gazetteer):
    loc = gazetteer.resolve(gazetteer.find("我是光明镇西垅村村民"))
    assert (loc.township_code, loc.village_code) == ("350428106", "350428106201")


def test_an_ambiguous_village_follows_the_named_township(gazetteer):
    loc = gazetteer.resolve(gazetteer.find("万安镇西垅村的道路"))
    assert loc.village_code == "350428101202"


def test_it_resolves_a_township_alias(gazetteer):
    assert gazetteer.resolve(gazetteer.find("原光明乡政府门口")).township_code == "350428106"


def test_it_lists_places_outside_the_county_and_skips_two_character_county_names(gazetteer):
    loc = gazetteer.resolve(gazetteer.find("我和县长说了要去北京"))
    assert [p.code for p in loc.outside] == ["11"]
    assert loc.township_code is None


def test_the_default_gazetteer_knows_the_demo_townships():
    g = default_gazetteer()
    assert len(g.townships()) == 13
    loc = g.resolve(g.find("将乐县南口乡的事"))
    assert loc.township_code == "350428107"
