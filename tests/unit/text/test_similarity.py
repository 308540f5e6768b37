from xinfang.text.similarity import SimilarityIndex, jaccard

LETTER = "我是万安镇西垅村村民,包工头拖欠我们工资三个多月,共计两万多元,多次讨要无果,恳请政府帮助解决。" * 2


def test_identical_texts_have_similarity_one_and_unrelated_texts_near_zero():
    assert jaccard(LETTER, LETTER) == 1.0
    assert jaccard(LETTER, "学校门口的路灯坏了很久,晚上学生回家很不安全,希望尽快修好。") < 0.1


def test_full_width_and_traditional_copies_still_match():
    assert jaccard(LETTER, LETTER.replace("，", ",").replace("们", "們")) > 0.8


def test_the_index_finds_an_edited_repeat_and_not_a_different_petition():
    index = SimilarityIndex(threshold=0.5)
    index.add("p1", LETTER)
    index.add("p2", "学校门口的路灯坏了很久,晚上学生回家很不安全,希望尽快修好。" * 2)
    edited = LETTER.replace("三个多月", "四个月").replace("两万多元", "两万五千元")
    hits = index.query(edited)
    assert hits and hits[0][0] == "p1" and 0.5 <= hits[0][1] <= 1.0
    assert all(item_id != "p2" for item_id, _ in hits)
    assert index.query("完全无关的一段话,讲的是菜市场的摊位费太高了,商户负担很重。") == []
