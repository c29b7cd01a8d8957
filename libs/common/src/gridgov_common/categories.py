"""The category codes reports may carry (national 2+3 style: major class + minor class).

A shared contract: intake refuses a code not listed here, and dispatch routes every code listed here.
The full, versioned event catalog with its departments and time limits is dispatch's own (issue #6);
this list is the set of codes both sides agree on: every middle-class (中类) code of dispatch's seeded catalog
(``gridgov_dispatch/catalog/seed.csv``), with the same Chinese names; a dispatch test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One event category: code, Chinese and English name."""

    code: str
    name_zh: str
    name_en: str


CATEGORIES: tuple[Category, ...] = (
    Category("01001", "私搭乱建", "Illegal construction"),
    Category("01002", "暴露垃圾", "Exposed garbage"),
    Category("01003", "积存垃圾渣土", "Accumulated garbage and muck"),
    Category("01004", "道路不洁", "Unclean road"),
    Category("02001", "非法小广告", "Illegal small advertisements"),
    Category("03001", "施工扰民", "Construction disturbing residents"),
    Category("04001", "路面塌陷", "Road surface collapse"),
    Category("04002", "自来水管破裂", "Burst water main"),
    Category("04003", "燃气管道破裂", "Burst gas pipe"),
    Category("04004", "道路积水", "Road flooding"),
    Category("05001", "无照经营游商", "Unlicensed street vendor"),
    Category("05002", "店外经营", "Business outside the shop"),
    Category("05003", "机动车乱停放", "Illegal parking"),
    Category("05004", "露天烧烤", "Open-air barbecue"),
    # Added with the seeded event catalog (issue #6); the skeleton's codes above keep their places.
    Category("01005", "水域不洁", "Unclean water surface"),
    Category("01006", "绿地脏乱", "Littered green space"),
    Category("01007", "废弃家具设备", "Abandoned furniture and appliances"),
    Category("01008", "焚烧垃圾树叶", "Burning garbage or leaves"),
    Category("01009", "乱涂乱画", "Graffiti"),
    Category("01099", "其他市容环境", "Other city appearance issues"),
    Category("02002", "违规张贴悬挂宣传品", "Unauthorised posters and banners"),
    Category("02003", "占道广告牌", "Billboard obstructing the road"),
    Category("02004", "广告招牌破损", "Damaged advertising sign"),
    Category("02099", "其他宣传广告", "Other publicity and advertising issues"),
    Category("03002", "工地扬尘", "Construction site dust"),
    Category("03003", "渣土车遗撒", "Muck truck spillage"),
    Category("03004", "施工占道", "Construction occupying the road"),
    Category("03005", "无证施工", "Construction without a permit"),
    Category("03099", "其他施工管理", "Other construction management issues"),
    Category("04005", "道路积雪结冰", "Snow and ice on the road"),
    Category("04006", "建筑物倒塌险情", "Building at risk of collapse"),
    Category("04099", "其他突发事件", "Other emergencies"),
    Category("05005", "占道堆物", "Goods piled on the road"),
    Category("05006", "非机动车乱停放", "Disorderly bicycle parking"),
    Category("05007", "沿街晾挂", "Laundry hung along the street"),
    Category("05099", "其他街面秩序", "Other street order issues"),
    Category("11001", "上水井盖", "Water supply manhole cover"),
    Category("11002", "污水井盖", "Sewer manhole cover"),
    Category("11003", "雨水井盖", "Storm drain manhole cover"),
    Category("11004", "燃气井盖", "Gas manhole cover"),
    Category("11005", "电力井盖", "Power manhole cover"),
    Category("11006", "通信井盖", "Telecom manhole cover"),
    Category("11007", "消防栓", "Fire hydrant"),
    Category("11008", "路灯", "Street light"),
    Category("11009", "电力设施", "Power equipment"),
    Category("11099", "其他公用设施", "Other public utilities"),
    Category("12001", "交通信号灯", "Traffic signal"),
    Category("12002", "交通标志牌", "Traffic sign"),
    Category("12003", "道路护栏", "Road guardrail"),
    Category("12004", "公交站亭", "Bus shelter"),
    Category("12005", "道路破损", "Damaged road surface"),
    Category("12006", "人行道破损", "Damaged pavement"),
    Category("12099", "其他交通设施", "Other traffic facilities"),
    Category("13001", "公共厕所", "Public toilet"),
    Category("13002", "垃圾箱", "Litter bin"),
    Category("13003", "垃圾收集站", "Garbage collection point"),
    Category("13004", "环卫车辆停放点", "Sanitation vehicle depot"),
    Category("13099", "其他市容环卫设施", "Other sanitation facilities"),
    Category("14001", "行道树", "Street tree"),
    Category("14002", "绿地", "Green space"),
    Category("14003", "花坛花箱", "Flower bed or planter"),
    Category("14004", "古树名木", "Ancient or notable tree"),
    Category("14099", "其他园林绿化", "Other landscaping issues"),
    Category("21001", "危险化学品违规存放", "Hazardous chemicals stored illegally"),
    Category("21002", "三小场所安全隐患", "Safety hazard in a small shop, workshop or venue"),
    Category("21003", "有限空间作业隐患", "Confined-space work hazard"),
    Category("21004", "企业安全生产隐患", "Enterprise work-safety hazard"),
    Category("21005", "违规动火作业", "Unauthorised hot work"),
    Category("21099", "其他安全生产", "Other work-safety issues"),
    Category("22001", "消防通道堵塞", "Blocked fire lane"),
    Category("22002", "电动自行车违规停放充电", "E-bike parked or charged illegally indoors"),
    Category("22003", "三合一场所住人", "People living in a shop-workshop-dwelling"),
    Category("22004", "消防设施损坏", "Damaged fire-fighting equipment"),
    Category("22005", "违规用火用电", "Unsafe use of fire or electricity"),
    Category("22099", "其他消防隐患", "Other fire hazards"),
    Category("23001", "无证无照经营", "Business without a licence"),
    Category("23002", "食品安全隐患", "Food safety hazard"),
    Category("23003", "价格违法", "Illegal pricing"),
    Category("23004", "特种设备隐患", "Special equipment hazard (lifts, boilers)"),
    Category("23005", "虚假宣传", "False advertising"),
    Category("23099", "其他市场监管", "Other market regulation issues"),
    Category("24001", "污水直排", "Untreated sewage discharge"),
    Category("24002", "废气排放", "Illegal exhaust emission"),
    Category("24003", "噪声污染", "Noise pollution"),
    Category("24004", "固体废物非法倾倒", "Illegal dumping of solid waste"),
    Category("24005", "黑臭水体", "Black and odorous water body"),
    Category("24099", "其他生态环境", "Other environmental issues"),
    Category("25001", "危房", "Dangerous building"),
    Category("25002", "工地安全隐患", "Construction site safety hazard"),
    Category("25003", "物业服务纠纷", "Property management dispute"),
    Category("25004", "违规装修", "Illegal renovation"),
    Category("25099", "其他住建", "Other housing and construction issues"),
    Category("26001", "出租屋安全隐患", "Rental housing hazard"),
    Category("26002", "矛盾纠纷", "Neighbourhood dispute"),
    Category("26003", "流动人员未登记", "Unregistered migrant resident"),
    Category("26004", "公共场所治安隐患", "Public place security hazard"),
    Category("26099", "其他治安隐患", "Other public security hazards"),
    Category("27001", "拖欠工资", "Unpaid wages"),
    Category("27002", "未签劳动合同", "No labour contract"),
    Category("27003", "非法使用童工", "Illegal child labour"),
    Category("27099", "其他人社劳资", "Other labour issues"),
    Category("28001", "内涝点", "Waterlogging point"),
    Category("28002", "排水管道堵塞", "Blocked drain"),
    Category("28003", "河道堤防隐患", "River embankment hazard"),
    Category("28004", "供水设施损坏", "Damaged water supply facility"),
    Category("28005", "河道垃圾", "Garbage in a river"),
    Category("28099", "其他水务", "Other water affairs issues"),
    Category("29001", "非法营运", "Unlicensed passenger transport"),
    Category("29002", "占道施工未设警示", "Roadworks without warning signs"),
    Category("29003", "公交营运服务", "Bus service problem"),
    Category("29004", "路面坑洼", "Potholes"),
    Category("29099", "其他交通", "Other transport issues"),
)

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}


def is_known(code: str) -> bool:
    """Whether a category code is in the shared list."""
    return code in BY_CODE
