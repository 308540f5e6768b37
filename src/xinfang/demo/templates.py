"""Matter templates for the synthetic history: what people petition about, who handles it, and when it peaks.

Each template is plain data: titles, self-introductions, facts and demands with `{slot}` placeholders that the
generator fills from the gazetteer and its own random draws. The texts are written for this project in the
style of county petitions; none is copied from real messages.

`department` is a code from data/departments.yaml, or TOWNSHIP for matters that the township where they arise
handles under 属地管理.
"""

from __future__ import annotations

from dataclasses import dataclass

TOWNSHIP = "township"

# Top-level content classes (信访内容分类, first level). The first seven are the classes of the labelled
# training data; the others are first-level classes of the same taxonomy for matters the seven do not cover.
CATEGORIES = (
    "城乡建设",
    "劳动和社会保障",
    "教育文体",
    "商贸旅游",
    "环境保护",
    "卫生计生",
    "交通运输",
    "农村农业",
    "国土资源",
    "民政",
    "政法",
    "纪检监察",
)

FLAT = (1.0,) * 12
WAGES = (3.2, 2.0, 0.8, 0.7, 0.7, 0.8, 0.7, 0.8, 0.9, 1.0, 1.4, 2.4)  # before Spring Festival
ENROLMENT = (0.4, 0.6, 0.7, 0.8, 1.1, 2.4, 2.8, 3.0, 2.0, 0.6, 0.4, 0.4)
FLOOD = (0.2, 0.3, 0.7, 1.3, 2.6, 3.2, 2.4, 2.2, 1.2, 0.4, 0.2, 0.2)  # plum rains and typhoons
SUMMER = (0.6, 0.6, 0.8, 1.0, 1.3, 1.6, 1.8, 1.7, 1.2, 1.0, 0.7, 0.6)
WINTER = (1.6, 1.4, 1.0, 0.8, 0.7, 0.7, 0.7, 0.7, 0.8, 1.0, 1.3, 1.6)
SPRING_FARMING = (0.6, 0.9, 1.8, 2.0, 1.5, 1.0, 0.9, 0.8, 1.0, 1.0, 0.7, 0.6)
INSURANCE_DRIVE = (0.9, 0.7, 0.7, 0.7, 0.8, 0.8, 0.8, 0.9, 1.5, 1.8, 1.9, 1.6)  # 城乡居民医保缴费期
TOURISM = (1.2, 1.4, 0.8, 1.0, 1.5, 0.9, 1.3, 1.4, 0.9, 1.8, 0.8, 0.7)
QINGMING = (0.8, 0.9, 2.2, 2.6, 0.9, 0.7, 0.7, 0.7, 0.8, 0.9, 0.8, 0.8)


@dataclass(frozen=True)
class MatterTemplate:
    key: str
    department: str
    category: str
    titles: tuple[str, ...]
    intros: tuple[str, ...]
    facts: tuple[str, ...]
    demands: tuple[str, ...]
    rate: float  # new matters per day at scale 1, before weekday/holiday thinning
    season: tuple[float, ...] = FLAT  # Jan..Dec multipliers
    group_share: float = 0.0  # share raised by a group (集体)
    legal: str | None = (
        None  # "arbitration" | "court" | "reconsideration": the statutory route that may apply
    )
    urban: bool = False  # mostly in the county seat
    kind: str = "complaint"  # complaint (申诉求决) | suggestion (建议意见) | accusation (检举控告)
    # facts[i] tells the story of titles[i], and facts beyond the titles fit every title; with mix=True, any
    # fact fits any title (all variants are the same story).
    mix: bool = False


_WE_VILLAGERS = (
    "我们是{township}{village}的村民，",
    "我是{township}{village}村民{self_name}，",
    "本人家住{place}，",
)
_WE_OWNERS = ("我们是{estate}的业主，", "我是{estate}{building}栋的住户，", "本人系{estate}业主，")
_I_WORKER = (
    "我是在{company}打工的工人，",
    "我们{workers}名农民工在{project}做工，",
    "本人{self_name}，原在{company}上班，",
)

TEMPLATES: tuple[MatterTemplate, ...] = (
    # ---- 人社局: wages and social insurance --------
    MatterTemplate(
        key="wage_construction",
        mix=True,
        department="rsj",
        category="劳动和社会保障",
        titles=(
            "{project}拖欠农民工工资",
            "包工头{boss}拖欠我们{amount}工资不给",
            "恳请帮助讨回{project}的劳务费",
            "反映{company}拖欠工人工资问题",
        ),
        intros=_I_WORKER,
        facts=(
            "从{when}开始在{project}干活，包工头{boss}一直拖欠工资，共计{amount}。",
            "工程早已完工，总包单位说钱已经拨给包工头，包工头又说没收到，互相推诿。",
            "我们多次找{company}的负责人，对方电话不接，人也找不到。",
            "快过年了，家里老人孩子都等着这笔钱，工友们都很着急。",
            "手里有考勤记录和{boss}写的欠条，欠款金额清清楚楚。",
            "同一工地还有{workers}名工友的工资没有结清。",
        ),
        demands=(
            "恳请人社部门督促{company}尽快支付拖欠的工资。",
            "要求依法追讨欠薪，让我们回家过个安心年。",
            "希望政府帮我们讨回血汗钱。",
        ),
        rate=0.42,
        season=WAGES,
        group_share=0.25,
        legal="arbitration",
    ),
    MatterTemplate(
        key="wage_factory",
        mix=True,
        department="rsj",
        category="劳动和社会保障",
        titles=(
            "{company}拖欠员工{months}个月工资",
            "反映{company}停产后不发工资",
            "{company}无故辞退员工不给经济补偿",
        ),
        intros=_I_WORKER,
        facts=(
            "公司自{when}起就没有按时发放工资，已经拖欠了{months}个月。",
            "老板说资金周转困难，让我们再等等，可一等就是好几个月。",
            "公司没有和我们签订劳动合同，也没有缴纳社保。",
            "厂里突然停产放假，工资和经济补偿金都没有说法。",
            "全厂有{workers}名员工都遇到同样的问题。",
        ),
        demands=(
            "要求{company}结清拖欠的工资并依法支付经济补偿。",
            "请劳动监察部门介入调查，维护我们的合法权益。",
            "希望有关部门尽快协调解决。",
        ),
        rate=0.22,
        season=WAGES,
        group_share=0.2,
        legal="arbitration",
    ),
    MatterTemplate(
        key="social_insurance",
        department="rsj",
        category="劳动和社会保障",
        titles=(
            "咨询养老保险补缴政策",
            "单位未给我缴纳社保",
            "反映退休待遇核定有误",
            "被征地农民养老保险问题",
        ),
        intros=(
            "本人{self_name}，今年{age}岁，",
            "我是{township}{village}的{self_name}，",
            "我原在{company}工作，",
        ),
        facts=(
            "到社保窗口咨询补缴，工作人员说不符合政策，但说不清依据是什么。",
            "在{company}工作了{years}年，单位一直没有给我缴纳养老保险。",
            "我{when}办理退休，核定的养老金比同批人少了很多，工龄没有算对。",
            "我家土地{when}被征收，当时说会办理被征地人员养老保险，至今没有落实。",
        ),
        demands=("请人社局明确答复。", "要求依政策落实我的社保待遇。", "希望有关部门给个说法。"),
        rate=0.16,
    ),
    # ---- 医保局 --------
    MatterTemplate(
        key="medical_reimbursement",
        department="ybj",
        category="卫生计生",
        titles=(
            "异地就医报销比例太低",
            "医保报销迟迟没有到账",
            "城乡居民医保缴费问题",
            "门诊慢特病待遇申请被拒",
        ),
        intros=(
            "我是{township}{village}村民，",
            "本人{self_name}，参加城乡居民医保，",
            "我母亲今年{age}岁，",
        ),
        facts=(
            "{when}在省立医院住院花了{amount}，回来报销只报了一小部分。",
            "报销材料交上去两个多月了，钱一直没有到账，问了几次都说在审核。",
            "今年医保缴费标准又涨了，家里{n}口人一年要交不少钱，负担很重。",
            "申请门诊慢特病待遇，医院说材料不全，来回跑了好几趟。",
        ),
        demands=("请医保部门说明政策并尽快办理。", "希望简化手续。", "恳请给予照顾。"),
        rate=0.12,
        season=INSURANCE_DRIVE,
    ),
    # ---- 住建局 / 城管局: housing, estates, city management --------
    MatterTemplate(
        key="estate_property",
        department="zjj",
        category="城乡建设",
        titles=(
            "{estate}物业服务太差",
            "{estate}电梯经常困人",
            "{estate}房屋漏水开发商不维修",
            "{estate}迟迟不办房产证",
        ),
        intros=_WE_OWNERS,
        facts=(
            "小区物业费照收，但垃圾没人清、路灯坏了也没人修。",
            "{building}栋电梯这个月已经困人{n}次，物业只会临时修一下。",
            "入住不到两年，外墙和卫生间就开始漏水，开发商一直推脱。",
            "交房已经{years}年了，开发商还不给办不动产权证，孩子上学都受影响。",
            "业主们多次找{company}协商，对方态度很差。",
            "小区有{households}受到影响，业主意见很大。",
        ),
        demands=(
            "要求住建部门督促开发商和物业尽快整改。",
            "恳请有关部门帮助业主解决。",
            "希望监管部门约谈相关企业。",
        ),
        rate=0.32,
        group_share=0.2,
        urban=True,
        legal="court",
    ),
    MatterTemplate(
        key="demolition_compensation",
        mix=True,
        department="zjj",
        category="城乡建设",
        titles=("房屋征收补偿标准不合理", "{project}征迁补偿款未到位", "反映安置房迟迟不交付"),
        intros=_WE_VILLAGERS,
        facts=(
            "我家房屋{when}因{project}被征收，补偿标准比周边低很多。",
            "签了征收协议，约定的补偿款{amount}至今还有一部分没有付。",
            "安置房说好{when}交房，现在已经超期一年多，还在租房住。",
            "评估时没有通知我们到场，评估结果我们不认可。",
            "同一批被征收的{households}都有意见。",
        ),
        demands=(
            "要求按政策重新评估并足额补偿。",
            "希望政府尽快交付安置房。",
            "恳请县领导过问此事。",
        ),
        rate=0.14,
        group_share=0.3,
        legal="reconsideration",
    ),
    MatterTemplate(
        key="city_management",
        department="cgj",
        category="城乡建设",
        titles=(
            "{road}占道经营严重",
            "{road}有人违章搭建",
            "{estate}旁夜市烧烤油烟扰民",
            "{road}路灯不亮",
        ),
        intros=("我是附近居民，", "我住在{estate}，", "市民反映，"),
        facts=(
            "{road}两边摆满了摊点，行人只能走到机动车道上，很危险。",
            "有住户在楼顶违章搭建铁皮房，已经盖了两层。",
            "每天晚上烧烤摊一直营业到凌晨，油烟和噪音让人无法休息。",
            "{road}一段的路灯坏了半个多月，晚上一片漆黑。",
        ),
        demands=("请城管部门及时处理。", "希望加强管理。", "恳请尽快解决。"),
        rate=0.22,
        season=SUMMER,
        urban=True,
    ),
    # ---- 自然资源局 / 国土 --------
    MatterTemplate(
        key="land_dispute",
        department="zrzyj",
        category="国土资源",
        titles=(
            "反映{village}有人违法占用耕地建房",
            "宅基地审批迟迟不办",
            "{project}征地补偿问题",
            "林地权属纠纷",
        ),
        intros=_WE_VILLAGERS,
        facts=(
            "{village}有人在基本农田上建房，已经打好了地基。",
            "我家{when}申请宅基地建房，材料齐全，至今没有批下来。",
            "{project}征用我们组的{area}亩土地，征地补偿款没有公开分配。",
            "我家承包的山林被邻村的人砍伐，双方对林地界址有争议。",
        ),
        demands=("请自然资源部门调查处理。", "希望尽快依法处理。", "恳请给个明确答复。"),
        rate=0.14,
        season=SPRING_FARMING,
    ),
    # ---- 生态环境局 --------
    MatterTemplate(
        key="pollution",
        department="sthjj",
        category="环境保护",
        titles=(
            "{company}排放废气刺鼻难闻",
            "{company}偷排污水污染河道",
            "{company}噪音扰民",
            "反映{village}附近养殖场污染",
        ),
        intros=(*_WE_VILLAGERS, "我是附近的居民，"),
        facts=(
            "{company}晚上偷偷排放废气，气味刺鼻，老人小孩晚上都睡不好。",
            "河里的水已经发黑发臭，前几天还有死鱼漂上来。",
            "工厂机器日夜不停，噪音很大，严重影响附近居民休息。",
            "养猪场的粪水直接排到田里，苍蝇成群。",
            "附近有{households}受到影响。",
        ),
        demands=("请环保部门尽快查处。", "要求责令整改。", "希望还我们一个安静干净的环境。"),
        rate=0.26,
        season=SUMMER,
        group_share=0.15,
    ),
    # ---- 市场监管局 --------
    MatterTemplate(
        key="consumer",
        department="scjgj",
        category="商贸旅游",
        titles=(
            "{shop}销售过期食品",
            "{shop}预付卡老板跑路",
            "投诉{shop}缺斤短两",
            "网购{goods}质量问题商家不退款",
        ),
        intros=("本人是消费者，", "我是{township}居民，", "我于{when}在{shop}消费，"),
        facts=(
            "在{shop}买的{goods}已经过了保质期，找店家理论，对方拒不承认。",
            "在{shop}办了{money_small}的会员卡，现在店门关了，老板联系不上。",
            "在农贸市场买的{goods}，回家一称少了好几两。",
            "收到的{goods}有质量问题，申请退货，商家一直拖着不处理。",
        ),
        demands=("请市场监管部门查处。", "要求商家依法退赔。", "希望加强对商家的监管。"),
        rate=0.3,
    ),
    MatterTemplate(
        key="tourism",
        department="scjgj",
        category="商贸旅游",
        titles=("景区门票收费不合理", "农家乐收费宰客", "景区周边停车乱收费"),
        intros=("我是外地游客，", "本人{when}到将乐旅游，", "我是本地居民，"),
        facts=(
            "景区讲解和门票捆绑销售，不买不让进。",
            "景区内的农家乐一桌菜收了{money_small}，价格没有明码标价。",
            "景区停车场临时收费，没有任何票据。",
        ),
        demands=("请有关部门核查处理。", "希望规范景区收费。", "要求退还多收的费用。"),
        rate=0.07,
        season=TOURISM,
    ),
    # ---- 教育局 --------
    MatterTemplate(
        key="school_enrolment",
        department="jyj",
        category="教育文体",
        titles=(
            "孩子入学划片不合理",
            "{school}学位紧张孩子无法入学",
            "随迁子女入学难",
            "咨询今年小学一年级招生政策",
        ),
        intros=("我是一名学生家长，", "我家住{estate}，", "本人在将乐务工多年，"),
        facts=(
            "我家就在{school}旁边，却被划到了离家很远的学校。",
            "今年{school}一年级报名人数太多，说学位已满。",
            "孩子随我们在将乐上学，因为没有本地户口被要求补交很多证明。",
            "不清楚今年的招生时间和需要准备的材料。",
        ),
        demands=("请教育局明确答复。", "希望保障孩子就近入学。", "恳请教育部门帮助解决。"),
        rate=0.18,
        season=ENROLMENT,
        urban=True,
    ),
    MatterTemplate(
        key="school_management",
        department="jyj",
        category="教育文体",
        titles=(
            "{school}乱收费",
            "{school}食堂饭菜质量差",
            "反映{school}老师体罚学生",
            "{school}校外培训机构违规办学",
            "代课教师待遇问题",
        ),
        intros=("我是{school}的学生家长，", "本人是一名乡村教师，", "我们是家长，"),
        facts=(
            "学校要求每个学生交{money_small}的资料费，没有开收据。",
            "学校食堂饭菜分量少、卫生差，孩子经常吃不饱。",
            "有老师在课堂上体罚学生，孩子回家不敢说。",
            "有培训机构在{estate}里面开班，周末补课到很晚。",
            "我在{school}代课{years}年，工资一直很低，也没有社保。",
        ),
        demands=("请教育部门调查处理。", "希望规范学校管理。", "要求学校给个说法。"),
        rate=0.2,
    ),
    # ---- 卫健委 --------
    MatterTemplate(
        key="hospital",
        department="wjw",
        category="卫生计生",
        titles=(
            "{hospital}医生态度恶劣",
            "在{hospital}做手术后出现医疗事故",
            "{hospital}过度检查收费",
            "{village}卫生所长期无人值班",
        ),
        intros=("我是患者家属，", "本人{self_name}，", "我家住{place}，"),
        facts=(
            "{when}带父亲到{hospital}看病，医生态度很差，问两句就不耐烦。",
            "我母亲在{hospital}做手术后出现严重并发症，医院一直推卸责任。",
            "感冒发烧就让做了一大堆检查，花了{money_small}。",
            "村卫生所经常关门，老人看病要跑到镇上。",
        ),
        demands=("请卫健委调查处理。", "要求给出合理解释。", "希望改善医疗服务。"),
        rate=0.18,
        legal="court",
    ),
    # ---- 民政局 / 退役军人 --------
    MatterTemplate(
        key="subsistence",
        department="mzj",
        category="民政",
        titles=(
            "申请低保一直没有批",
            "反映{village}低保评定不公平",
            "残疾人补贴没有发放",
            "养老院收费过高",
        ),
        intros=("我是{township}{village}村民，", "本人{self_name}，今年{age}岁，", "我家是困难户，"),
        facts=(
            "我家{n}口人，我长期生病不能干活，申请低保{when}交了材料，一直没有结果。",
            "村里有的人家开着小车、盖了新房还在吃低保，真正困难的却评不上。",
            "我儿子是二级残疾，今年的残疾人补贴一直没有发到卡上。",
            "父亲住的养老院每个月收费{money_small}，护理却跟不上。",
        ),
        demands=("请民政部门核实情况。", "恳请给予帮助。", "要求依政策处理。"),
        rate=0.16,
        season=WINTER,
    ),
    MatterTemplate(
        key="veterans",
        mix=True,
        department="tyjrswj",
        category="民政",
        titles=("退役军人优抚待遇问题", "反映退役安置没有落实", "参战老兵补助问题"),
        intros=("本人是退役军人，", "我是{year}年入伍的退伍老兵，", "我父亲是参战退役军人，"),
        facts=(
            "退役后按政策应享受的优抚补助一直没有落实。",
            "当年说好安置工作，回来后一直没有消息。",
            "老兵年纪大了，身体不好，生活比较困难。",
        ),
        demands=("请退役军人事务局核实并落实待遇。", "希望给予帮扶。", "要求明确答复。"),
        rate=0.05,
        season=(1, 1, 1, 1, 1, 1, 1.8, 1.5, 1, 1, 1, 1),
    ),
    MatterTemplate(
        key="funeral",
        department="mzj",
        category="民政",
        titles=("公墓收费过高", "{village}有人乱埋乱葬", "殡葬服务收费不透明"),
        intros=(
            "我是{place}村民，",
            "本人{self_name}，",
        ),
        facts=(
            "县公墓一个墓穴要{amount}，普通家庭负担不起。",
            "有人在{village}的山上乱埋乱葬，还占用了别人家的林地。",
            "殡仪馆的服务项目价格不公开，结账时多出很多费用。",
        ),
        demands=("请民政部门调查处理。", "希望依法规范。", "恳请有关部门重视。"),
        rate=0.04,
        season=QINGMING,
    ),
    # ---- 农业农村局 / 乡镇 --------
    MatterTemplate(
        key="agriculture",
        department="nyncj",
        category="农村农业",
        titles=(
            "耕地地力保护补贴没有发放",
            "购买到假种子导致减产",
            "{village}农田灌溉渠道损坏",
            "土地流转租金拖欠",
        ),
        intros=_WE_VILLAGERS,
        facts=(
            "今年的耕地地力保护补贴至今没有发到一卡通上。",
            "在镇上农资店买的稻种，出苗率很低，{area}亩地减产严重。",
            "水渠年久失修，春耕用水放不下来。",
            "{company}流转了我们组的{area}亩土地，租金已经拖欠{months}个月。",
        ),
        demands=("请农业农村部门核查处理。", "希望尽快帮我们解决。", "恳请有关部门重视。"),
        rate=0.14,
        season=SPRING_FARMING,
        group_share=0.15,
        legal="court",
    ),
    MatterTemplate(
        key="village_affairs",
        department=TOWNSHIP,
        category="农村农业",
        titles=(
            "{village}村务不公开",
            "反映{village}集体资金使用不明",
            "邻里宅基地边界纠纷",
            "{village}道路硬化工程质量差",
        ),
        intros=_WE_VILLAGERS,
        facts=(
            "村里的集体收入和支出从来不公开，村民问了也没人答复。",
            "村里卖掉的集体山林款{amount}，去向不明。",
            "邻居建房占用了我家的宅基地，村里调解了几次都没用。",
            "村里{when}刚硬化的道路，没几个月就开裂了。",
        ),
        demands=("请镇政府调查处理。", "要求公开村务财务。", "希望镇里出面调解。"),
        rate=0.22,
        group_share=0.15,
    ),
    # ---- 交通运输局 --------
    MatterTemplate(
        key="transport",
        department="jtysj",
        category="交通运输",
        titles=(
            "{road}坑洼不平",
            "{village}到县城的公交车班次太少",
            "{road}大货车超载严重",
            "出租车拒载绕路",
        ),
        intros=("我是{village}村民，", "我是经常走这条路的司机，", "市民反映，"),
        facts=(
            "{road}路面坑坑洼洼，下雨天积水很深，已经发生好几起事故。",
            "{village}到县城一天只有{n}班车，老人孩子出行很不方便。",
            "拉砂石的大货车严重超载，把路都压坏了。",
            "打车从客运站到城区，司机不打表还要加价。",
        ),
        demands=("请交通部门尽快处理。", "希望有关部门加强管理。", "恳请尽快解决。"),
        rate=0.2,
    ),
    # ---- 水利局 / 应急 --------
    MatterTemplate(
        key="flood",
        department="slj",
        category="农村农业",
        titles=(
            "{village}河堤存在安全隐患",
            "山塘水库漏水",
            "{village}饮用水水质差",
            "暴雨后农田被淹",
        ),
        intros=_WE_VILLAGERS,
        facts=(
            "前几天暴雨，{village}的河堤被冲垮了一段，再下雨房子就危险了。",
            "村后的山塘坝体漏水，下游住着{households}。",
            "自来水浑浊发黄，烧开后有很多沉淀。",
            "河道多年没有清淤，一下大雨农田就被淹。",
        ),
        demands=("请水利部门尽快排查处理。", "希望尽快解决，保障群众安全。", "恳请有关部门重视。"),
        rate=0.12,
        season=FLOOD,
        group_share=0.1,
    ),
    MatterTemplate(
        key="safety",
        department="yjglj",
        category="城乡建设",
        titles=("{company}存在安全生产隐患", "{village}山体滑坡隐患", "非法储存烟花爆竹"),
        intros=("我是附近居民，", "我是{company}的员工，", "本人家住{place}，"),
        facts=(
            "{company}车间没有消防设施，工人上岗也没有培训。",
            "连续下雨后，{village}屋后的山体出现裂缝，随时可能滑坡。",
            "有人在民房里存放大量烟花爆竹，周围都是住户。",
        ),
        demands=("请应急管理部门检查。", "希望尽快排除隐患。", "恳请有关部门重视。"),
        rate=0.06,
        season=FLOOD,
    ),
    # ---- 公安局 / 司法局 / 纪委监委 --------
    MatterTemplate(
        key="public_security",
        department="gaj",
        category="政法",
        titles=("被人打伤报警后无人处理", "{village}有人聚众赌博", "电信诈骗被骗{amount}", "户口迁移办理难"),
        intros=("本人{self_name}，", "我是{place}村民，", "我是受害人，"),
        facts=(
            "{when}我被同村人打伤，报警后派出所一直没有处理结果。",
            "{village}有人在家里开设赌场，晚上人来人往。",
            "接到冒充客服的电话被骗了{amount}，已经报案，没有进展。",
            "孩子户口迁移跑了好几次，每次都说材料不对。",
        ),
        demands=("请公安机关依法处理。", "希望尽快给个说法。", "恳请领导督促办理。"),
        rate=0.1,
        legal="court",
    ),
    MatterTemplate(
        key="legal_aid",
        department="sfj",
        category="政法",
        titles=("申请法律援助被拒", "人民调解协议对方不履行", "反映律师收费过高"),
        intros=("本人{self_name}，", "我是{place}村民，"),
        facts=(
            "我因工伤纠纷申请法律援助，被告知不符合条件。",
            "村调委会调解的赔偿协议，对方签了字却一直不履行。",
            "请律师打官司收了{amount}，结果什么事都没办。",
        ),
        demands=("请司法局帮助。", "要求依法处理。", "希望给予帮助。"),
        rate=0.05,
        legal="court",
    ),
    MatterTemplate(
        key="accusation",
        department="jw",
        category="纪检监察",
        titles=(
            "举报{village}村干部{official}侵占集体资金",
            "检举{township}某站所工作人员吃拿卡要",
            "举报{official}优亲厚友评低保",
        ),
        intros=("我是{village}村民，实名举报：", "本人{self_name}，现举报：", "我们是{village}的党员群众，"),
        facts=(
            "{official}利用职务便利，把村里的{project}交给自己亲戚做，集体土地租金{amount}也没有入账。",
            "办事人员在办理审批时暗示要请吃饭送礼，否则就拖着不办。",
            "{official}把自己亲属评为低保户，真正困难的村民却评不上。",
        ),
        demands=("恳请纪委监委调查核实，严肃处理。", "要求对举报人信息保密。", "请上级纪委查处。"),
        rate=0.08,
        kind="accusation",
    ),
    # ---- suggestions (建议意见类) --------
    MatterTemplate(
        key="suggestion",
        department="cgj",
        category="城乡建设",
        titles=(
            "建议在{road}增设停车位",
            "建议{township}增建公共厕所",
            "关于{estate}周边垃圾清运的建议",
        ),
        intros=("我是一名普通市民，", "作为{township}的居民，", "您好，"),
        facts=(
            "{road}两侧车位严重不足，晚上车都停到了人行道上。",
            "{township}人流量越来越大，附近找不到一个公共厕所。",
            "{estate}周边的垃圾桶太少，垃圾经常一两天才清运一次。",
        ),
        demands=("建议有关部门研究采纳。", "希望政府考虑。", "恳请领导重视。"),
        rate=0.08,
        urban=True,
        kind="suggestion",
    ),
)

# Templates of the injected surges: one concrete matter, many voices, in a short time.
SURGE_TEMPLATES: dict[str, MatterTemplate] = {
    "wage": MatterTemplate(
        key="surge_wage",
        mix=True,
        department="rsj",
        category="劳动和社会保障",
        titles=(
            "{company}拖欠全厂工人工资",
            "{company}老板失联，工资没有着落",
            "反映{company}欠薪问题",
            "{company}停工欠薪，恳请政府帮助",
        ),
        intros=_I_WORKER,
        facts=(
            "{company}从{when}开始就没有发工资，现在厂门都关了。",
            "老板已经联系不上，厂里的设备听说也要被拉走。",
            "全厂{workers}名工人的工资都没有结，少的几千元，多的{amount}。",
            "大家都是附近村里的，年底就指望这笔钱过年。",
        ),
        demands=("恳请政府出面，尽快帮我们讨回工资。", "要求依法追究老板的责任，先垫付工资。"),
        rate=0.0,
        group_share=0.0,
        legal="arbitration",
    ),
    "estate": MatterTemplate(
        key="surge_estate",
        mix=True,
        department="zjj",
        category="城乡建设",
        titles=(
            "{estate}停水多日无人处理",
            "{estate}二次供水设备故障",
            "{estate}电梯全部停运",
            "{estate}物业撤场小区无人管理",
        ),
        intros=_WE_OWNERS,
        facts=(
            "物业公司和开发商闹矛盾，突然撤场，小区没人管了。",
            "二次供水设备坏了，高层住户已经停水好几天。",
            "小区电梯全部停运，老人上下楼非常困难。",
            "垃圾堆在楼道口没人清运，天热已经发臭。",
        ),
        demands=("要求住建部门马上协调恢复供水和电梯运行。", "请政府督促开发商尽快选聘新的物业。"),
        rate=0.0,
        urban=True,
    ),
    "pollution": MatterTemplate(
        key="surge_pollution",
        mix=True,
        department="sthjj",
        category="环境保护",
        titles=(
            "{village}河段出现大量死鱼",
            "{company}排污导致河水变色",
            "{village}河水发臭，怀疑企业偷排",
        ),
        intros=(*_WE_VILLAGERS, "我是附近的居民，"),
        facts=(
            "从前天开始，{village}河段的水变成了黄褐色，河面漂着很多死鱼。",
            "怀疑是上游{company}夜里偷排废水。",
            "村里有人用河水灌溉和洗衣服，现在都不敢用了。",
            "气味很大，附近的{households}都闻得到。",
        ),
        demands=("请环保部门马上来取样检测。", "要求查清污染源，依法处理。"),
        rate=0.0,
    ),
}

LEGAL_SENTENCES: dict[str, tuple[str, ...]] = {
    "arbitration": (
        "我已向县劳动人事争议仲裁委员会申请了劳动仲裁，仲裁裁决下来后对方仍不履行。",
        "目前已申请劳动仲裁，正在等待开庭。",
    ),
    "court": (
        "此事我已向县人民法院起诉，法院已经判决，但对方一直不执行。",
        "我已经向法院提起诉讼，案件还在审理中。",
    ),
    "reconsideration": (
        "我已向县人民政府申请行政复议，对复议结果不服。",
        "已申请行政复议，还没有结果。",
    ),
}

RISK_SENTENCES = (
    "如果再不解决，我们只能集体去北京上访。",
    "大家商量好了，下周一起到县政府门口拉横幅。",
    "我已经走投无路了，不知道还能怎么办。",
    "再拖下去，工友们说要去市里集体上访。",
)

GREETINGS = ("", "", "", "尊敬的领导：", "县信访局领导：", "您好！", "尊敬的县长：")
CLOSINGS = ("", "", "望领导重视！", "谢谢！", "盼复。", "恳请领导百忙之中过问。")
FOLLOW_UPS = (
    "此前我已于{prev}反映过此事，至今没有结果。",
    "{prev}已经反映过一次，有关部门答复后问题仍未解决。",
    "这是我第{times}次反映了，希望不要再推来推去。",
)

# Slot vocabularies. Invented, generic names; any likeness to a real business is accidental.
ESTATE_HEADS = (
    "金溪",
    "翠竹",
    "龙栖",
    "玉泉",
    "滨江",
    "书香",
    "碧水",
    "阳光",
    "锦绣",
    "鑫源",
    "华庭",
    "凤凰",
    "江南",
)
ESTATE_TAILS = ("花园小区", "苑", "华府", "新城", "家园", "名都", "小区", "公寓")
COMPANY_HEADS = (
    "鑫达",
    "恒通",
    "闽兴",
    "华翔",
    "永盛",
    "绿源",
    "宏泰",
    "天成",
    "瑞丰",
    "金诚",
    "顺发",
    "嘉禾",
)
COMPANY_TRADES = (
    "建材有限公司",
    "竹木制品有限公司",
    "建筑工程有限公司",
    "食品有限公司",
    "纺织有限公司",
    "新材料有限公司",
    "石材有限公司",
    "房地产开发有限公司",
    "物业管理有限公司",
    "农业发展有限公司",
)
PROJECTS = (
    "安置房项目",
    "道路改造工程",
    "学校扩建工程",
    "污水管网工程",
    "商住楼项目",
    "农贸市场改造工程",
    "河道整治工程",
)
STREETS = ("滨河路", "城南路", "新华路", "建设路", "府前路", "北山路", "东环路", "工业路")
SHOPS = ("某超市", "某生鲜店", "某健身房", "某美容店", "某培训机构", "某手机店", "某饭店")
GOODS = ("牛奶", "大米", "电动车", "手机", "食用油", "月饼", "猪肉", "儿童玩具")
OFFICIAL_TITLES = ("村支书", "村主任", "村会计", "村委委员")
