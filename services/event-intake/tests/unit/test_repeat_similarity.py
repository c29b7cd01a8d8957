"""Repeat callers (重复来电), pure: the Jaccard similarity of a caller's new words to their open cases, on hand-written
pairs — the same problem told again in other words, and two different problems of one caller."""

from gridgov_event_intake.assist.repeat import (
    THRESHOLD,
    normalise,
    phone_variants,
    rank,
    shingles,
    similarity,
)

# (first call, a later call about the same problem), as an operator types what the caller says.
SAME = [
    ("楼下大排档每晚烧烤到凌晨，油烟很大很吵", "又是楼下那个大排档，烧烤吵到凌晨两点，油烟熏得窗都不敢开"),
    ("工地晚上十一点还在打桩，吵得睡不着", "那个工地又在半夜打桩，十二点了还没停"),
    ("小区门口的路灯坏了一个星期了，晚上很黑", "上次反映的小区门口路灯还是不亮，晚上黑乎乎的"),
    ("家里停水两天了，物业说是水管爆了", "停水已经第三天了，水管爆裂还没修好"),
    ("隔壁厂房排黑水到河里，河水发臭", "那个厂还在往河里排污水，河水又黑又臭"),
    ("公交站的垃圾桶满了没人清理，苍蝇很多", "公交站垃圾桶又满了，还是没人来清，苍蝇到处飞"),
    ("楼上空调外机漏水滴到我家阳台", "楼上空调还在滴水到我阳台，说了好几次了"),
    ("村口那棵大树被台风吹断了，压在路中间", "台风吹断的大树还压在村口路上，车过不去"),
    ("菜市场门口乱摆卖，占了整条人行道", "菜市场门口还是有人乱摆卖，人行道走不了"),
    ("小区电梯困人，按警铃没人理", "我们小区电梯又困人了，上次反映过警铃没人管"),
    ("学校旁边的网吧让未成年人进去上网", "上次说的学校旁边网吧还是有学生进去上网"),
    ("出租屋的房东不退押金，说好月底退的", "房东还是不退押金，已经过了月底了"),
]
# (an open case of the caller, a new call of the same caller about something else).
DIFFERENT = [
    ("楼下大排档每晚烧烤到凌晨，油烟很大很吵", "小区门口的路灯坏了一个星期了，晚上很黑"),
    ("工地晚上十一点还在打桩，吵得睡不着", "家里停水两天了，物业说是水管爆了"),
    ("路边井盖丢了，很危险", "公交站的垃圾桶满了没人清理，苍蝇很多"),
    ("隔壁厂房排黑水到河里，河水发臭", "楼上空调外机漏水滴到我家阳台"),
    ("家里停水两天了，物业说是水管爆了", "小区停电了，电梯也停了，老人下不了楼"),
    ("工地晚上十一点还在打桩，吵得睡不着", "楼下大排档每晚烧烤到凌晨，油烟很大很吵"),
    ("路灯不亮", "路边井盖丢了"),
    ("村口那棵大树被台风吹断了，压在路中间", "出租屋的房东不退押金，说好月底退的"),
    ("菜市场门口乱摆卖，占了整条人行道", "学校旁边的网吧让未成年人进去上网"),
    ("小区电梯困人，按警铃没人理", "楼上邻居养狗每天晚上叫，吵得睡不着"),
    ("公司拖欠工资三个月了", "门口的马路被挖开一个月没有填回去"),
    ("河边有人电鱼", "公园的健身器材坏了，小孩玩的时候划伤手"),
]


def test_similar_reworded_same_problem_mostly_above_threshold():
    scores = [similarity(a, b) for a, b in SAME]
    print("same problem:", sorted(round(s, 3) for s in scores))
    assert sum(s >= THRESHOLD for s in scores) >= len(SAME) - 1


def test_similar_different_problems_below_threshold():
    scores = [similarity(a, b) for a, b in DIFFERENT]
    print("different problems:", sorted(round(s, 3) for s in scores))
    assert all(s < THRESHOLD for s in scores)


def test_similar_is_symmetric_and_one_for_the_same_words():
    a, b = SAME[0]
    assert similarity(a, b) == similarity(b, a)
    assert similarity(a, a) == 1.0
    # Punctuation, spaces and full-width forms say nothing about the problem.
    assert similarity("路灯不亮！！", " 路灯 不亮") == 1.0
    assert normalise("ＡＢＣ，路灯") == "abc路灯"


def test_similarity_is_the_exact_jaccard_of_characters_and_bigrams():
    # {a, b, ab} and {a, b, c, ab, bc}: 3 shared of 5.
    assert shingles("ab") == {"a", "b", "ab"} and similarity("ab", "abc") == 3 / 5
    assert similarity("路灯不亮", "路灯坏了") == 3 / 11  # 路, 灯, 路灯 shared; 11 shingles in either


def test_similar_text_without_letters_scores_zero():
    assert shingles("，。！？ ") == set()
    assert similarity("。。。", "路灯不亮") == 0.0
    assert similarity("", "") == 0.0
    assert rank("!!!", [("r1", "路灯不亮")]) == []


def test_rank_keeps_similar_candidates_most_alike_first():
    text = "又是楼下那个大排档，烧烤吵到凌晨两点，油烟熏得窗都不敢开"
    candidates = [("lamp", "小区门口的路灯坏了一个星期了，晚上很黑"),
                  ("bbq", "楼下大排档每晚烧烤到凌晨，油烟很大很吵"),
                  ("bbq-2", "大排档烧烤")]
    ranked = rank(text, candidates)
    assert [item for item, _ in ranked][:1] == ["bbq"]
    assert "lamp" not in [item for item, _ in ranked]
    assert all(0 < score <= 1 for _, score in ranked)


def test_phone_variants_match_the_spellings_of_one_mobile():
    variants = phone_variants("138-1234-5678")
    assert {"13812345678", "138-1234-5678", "+8613812345678", "8613812345678"} <= set(variants)
    assert set(phone_variants("+8613812345678")) == set(variants) | {"+8613812345678"}
    # A landline keeps its own spelling and its digits, nothing invented.
    assert set(phone_variants("0769-22223333")) == {"0769-22223333", "076922223333"}
