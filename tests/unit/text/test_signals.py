from xinfang.text.signals import classify_matter_kind, detect_legal_channel, detect_risks, extract_demand


def test_it_extracts_the_demand_sentence():
    demand = extract_demand("我家的房子被拆了。补偿款一直没有到位。恳请县政府尽快帮助解决补偿问题。谢谢!")
    assert demand is not None
    assert demand["text"] == "恳请县政府尽快帮助解决补偿问题"
    assert demand["cue"] == "恳请"


def test_there_is_no_demand_without_a_cue():
    assert extract_demand("今天天气很好,路上车很多。") is None


def test_it_shortens_a_long_demand_to_one_line():
    demand = extract_demand("要求" + "尽快解决" * 40)
    assert demand is not None and len(demand["text"]) <= 80 and "\n" not in demand["text"]


def test_it_classifies_an_accusation():
    result = classify_matter_kind("举报村支书贪污扶贫款,优亲厚友")
    assert result["kind"] == "检举控告"
    assert {t["text"] for t in result["triggers"]} >= {"举报", "贪污"}


def test_it_classifies_a_suggestion():
    assert classify_matter_kind("建议在县城增设公交线路,方便群众出行")["kind"] == "建议意见"


def test_a_request_for_own_interest_is_the_default_kind():
    assert classify_matter_kind("公司拖欠我的工资三个月,要求解决")["kind"] == "申诉求决"


def test_it_detects_labour_arbitration_before_plain_arbitration():
    legal = detect_legal_channel("我已经申请了劳动仲裁,但公司不执行")
    assert legal is not None and legal["channel"] == "labour_arbitration"
    assert legal["triggers"][0]["text"] == "劳动仲裁"


def test_it_detects_a_judgment_and_enforcement():
    assert detect_legal_channel("法院判决已经生效,但对方拒不执行")["channel"] == "enforcement"
    assert detect_legal_channel("一审判决后我上诉了")["channel"] == "judgment"


def test_it_detects_administrative_reconsideration():
    assert (
        detect_legal_channel("对处罚决定不服,已申请行政复议")["channel"] == "administrative_reconsideration"
    )


def test_a_negated_lawsuit_is_not_a_legal_channel():
    assert detect_legal_channel("我们没钱,没有起诉,也不想打官司") is None


def test_it_detects_risks_with_triggers_and_spans():
    text = "再不解决我就跳楼,还要去北京上访,我们三十多户村民准备集体拉横幅"
    risks = {r["type"]: r for r in detect_risks(text, headcounts=[(18, 25, 30)])}
    assert set(risks) == {"self_harm", "escalation", "group"}
    trigger = risks["self_harm"]["triggers"][0]
    assert text[trigger["start"] : trigger["end"]] == "跳楼"
    assert {t["text"] for t in risks["group"]["triggers"]} >= {"集体", "拉横幅"}


def test_a_calm_text_has_no_risk():
    assert detect_risks("希望有关部门关注一下路灯不亮的问题") == []
