//! Citizens' complaints (12345 / 12315 style) written from templates with
//! enough variety — products, problems, amounts, places, phrasing — that
//! classifying them is a real text task and not a lookup.

use crate::draw::Draw;

/// Complaint categories, as the catalog's `category` enum names them.
pub const CATEGORIES: [&str; 9] = [
    "food_safety",
    "after_sales",
    "quality",
    "false_advertising",
    "price",
    "contract",
    "service_attitude",
    "safety_hazard",
    "prepaid_refund",
];

/// The categories people complain about for an industry, with weights.
pub fn categories_for(industry: &str) -> &'static [(&'static str, f64)] {
    match industry {
        "62" | "14" | "13" => &[
            ("food_safety", 6.0),
            ("service_attitude", 2.0),
            ("price", 1.5),
            ("prepaid_refund", 0.5),
        ],
        "52" | "51" => &[
            ("quality", 4.0),
            ("after_sales", 3.0),
            ("price", 2.0),
            ("false_advertising", 2.0),
            ("food_safety", 1.5),
        ],
        "38" | "39" | "21" | "33" => &[
            ("after_sales", 5.0),
            ("quality", 4.0),
            ("false_advertising", 1.0),
        ],
        "80" | "82" | "83" | "90" => &[
            ("prepaid_refund", 4.0),
            ("contract", 2.0),
            ("service_attitude", 2.0),
            ("false_advertising", 1.0),
        ],
        "81" => &[("after_sales", 3.0), ("price", 3.0), ("quality", 2.0)],
        "61" => &[
            ("service_attitude", 3.0),
            ("price", 2.0),
            ("safety_hazard", 1.0),
            ("food_safety", 1.0),
        ],
        "70" | "47" | "48" | "49" | "50" => {
            &[("contract", 5.0), ("quality", 3.0), ("safety_hazard", 2.0)]
        }
        "54" | "58" | "59" => &[("contract", 3.0), ("service_attitude", 2.0), ("price", 1.0)],
        _ => &[
            ("quality", 2.0),
            ("contract", 2.0),
            ("service_attitude", 1.0),
            ("safety_hazard", 1.0),
        ],
    }
}

fn products(industry: &str) -> &'static [&'static str] {
    match industry {
        "62" => &[
            "外卖套餐",
            "烧鹅饭",
            "双皮奶",
            "火锅",
            "早茶点心",
            "奶茶",
            "烤鱼",
            "盒饭",
        ],
        "13" | "14" => &["月饼", "腊肠", "豆浆粉", "饼干", "速冻水饺", "酱油"],
        "52" | "51" => &[
            "电饭煲",
            "婴儿奶粉",
            "运动鞋",
            "食用油",
            "手机",
            "保健品",
            "化妆品",
            "床上用品",
        ],
        "38" => &["空调", "冰箱", "洗衣机", "热水器", "微波炉", "油烟机"],
        "39" => &["平板电脑", "蓝牙耳机", "路由器", "充电宝"],
        "21" => &["沙发", "床垫", "衣柜", "餐桌"],
        "33" => &["不锈钢锅", "门锁", "水龙头"],
        "80" => &["家政保洁", "月嫂服务", "搬家服务", "洗衣"],
        "82" => &["美容卡", "美发套餐", "健身年卡", "美甲"],
        "83" => &["少儿英语课程", "驾校培训", "舞蹈课", "编程课"],
        "81" => &["汽车保养", "手机维修", "空调维修", "电脑维修"],
        "61" => &["酒店客房", "民宿"],
        "90" => &["游乐场年卡", "KTV包间"],
        "70" => &["商品房", "车位", "物业服务"],
        "47" | "48" | "49" | "50" => &["装修工程", "防水工程", "门窗安装"],
        "54" | "58" | "59" => &["快递包裹", "货运", "搬运服务"],
        _ => &["产品", "服务"],
    }
}

fn problems(category: &str) -> &'static [&'static str] {
    match category {
        "food_safety" => &[
            "吃完后上吐下泻，怀疑食物变质",
            "菜里吃出了头发和虫子",
            "发现所售食品已过保质期",
            "后厨卫生脏乱，有老鼠出没",
            "饮品有异味，喝后肚子疼",
            "食品包装上没有生产日期",
        ],
        "after_sales" => &[
            "使用不到一个月就坏了，商家拒绝保修",
            "多次报修无人上门处理",
            "要求退换货被商家推诿",
            "维修后问题依旧，还要另外收费",
        ],
        "quality" => &[
            "收到的商品与描述严重不符",
            "质量很差，一用就出现裂痕",
            "产品疑似假冒伪劣",
            "尺寸和颜色都不对，做工粗糙",
        ],
        "false_advertising" => &[
            "宣传的功效根本没有，涉嫌虚假宣传",
            "广告写着全场五折，结账时却按原价收费",
            "宣称进口原装，实际是国产贴牌",
        ],
        "price" => &[
            "结账时多收了钱，明码标价与实际不符",
            "价格比标价高出许多，商家拒不解释",
            "收取不合理的服务费和包间费",
        ],
        "contract" => &[
            "商家不按合同约定时间履行",
            "签合同后商家擅自变更条款",
            "工期一拖再拖，定金不退",
        ],
        "service_attitude" => &[
            "服务人员态度恶劣，出言不逊",
            "排队很久无人理会，投诉后还被辱骂",
            "工作人员推卸责任，态度冷漠",
        ],
        "safety_hazard" => &[
            "店内消防通道被杂物堵塞，存在安全隐患",
            "燃气瓶随意摆放在门口，非常危险",
            "施工现场没有防护措施，影响行人安全",
        ],
        "prepaid_refund" => &[
            "办了预付卡后商家突然关门跑路",
            "充值的会员卡余额无法使用，要求退款被拒",
            "课程没上完机构就停业了，剩余学费不退",
        ],
        _ => &["存在问题"],
    }
}

const OPENINGS: [&str; 8] = [
    "市民来电反映：",
    "来电人称，",
    "消费者投诉：",
    "本人于",
    "我在",
    "市民反映",
    "网友留言称：",
    "来电人表示，",
];

const DEMANDS: [&str; 7] = [
    "要求商家退款并赔偿损失。",
    "希望相关部门尽快调查处理。",
    "请求监管部门依法查处。",
    "要求退一赔三。",
    "希望商家给个说法。",
    "要求全额退款。",
    "请有关部门核实并给予答复。",
];

/// One complaint text about a business.
pub fn text(
    draw: &mut Draw,
    category: &str,
    industry: &str,
    business: &str,
    place: &str,
    date: &str,
    amount: f64,
) -> String {
    let product = *draw.pick(products(industry));
    // Callers do not describe their problem in the hotline's categories: one
    // complaint in ten reads like a neighbouring category, as real tickets do.
    let described = if draw.chance(0.1) {
        *draw.pick(&CATEGORIES)
    } else {
        category
    };
    let problem = *draw.pick(problems(described));
    let opening = *draw.pick(&OPENINGS);
    let demand = *draw.pick(&DEMANDS);
    let amount = if amount >= 1.0 {
        format!("，涉及金额{amount:.0}元")
    } else {
        String::new()
    };
    match opening {
        "本人于" => {
            format!("本人于{date}在{place}的{business}购买了{product}，{problem}{amount}。{demand}")
        }
        "我在" => format!("我在{business}（{place}）消费{product}，{problem}{amount}，{demand}"),
        _ => match draw.range(0, 2) {
            0 => format!("{opening}{date}在{business}消费{product}时，{problem}{amount}。{demand}"),
            1 => format!("{opening}位于{place}的{business}，{product}{problem}{amount}。{demand}"),
            _ => format!(
                "{opening}{business}{problem}（{product}）{amount}，地址在{place}。{demand}"
            ),
        },
    }
}

/// The name a caller gives for a business: the registered name as often as
/// not, otherwise the forms people use — without the city, the shop sign
/// alone, the town in front or in brackets, the legal form said loosely, a
/// space typed in. Linking complaints to entities (`complaints::link`) has
/// to undo each of these.
pub fn as_called(draw: &mut Draw, registered: &str, district: &str, town: &str) -> String {
    let local = registered.strip_prefix("佛山市").unwrap_or(registered);
    let bare = local.strip_prefix(district).unwrap_or(local);
    let bare = bare.strip_prefix(town).unwrap_or(bare);
    // The shop sign: the name without its place and its legal form.
    let sign = if let Some(trade) = bare.strip_suffix("农业专业合作社") {
        format!("{trade}合作社")
    } else {
        ["股份有限公司", "有限公司"]
            .iter()
            .find_map(|form| bare.strip_suffix(form))
            .unwrap_or(bare)
            .to_string()
    };
    match *draw.weighted(&[
        (0, 45.0),
        (1, 15.0),
        (2, 10.0),
        (3, 12.0),
        (4, 8.0),
        (5, 5.0),
        (6, 5.0),
    ]) {
        0 => registered.to_string(),
        1 => local.to_string(),
        2 => match registered.strip_suffix("有限公司") {
            Some(head) if !head.ends_with("股份") => {
                format!("{head}{}", draw.pick(&["有限责任公司", "公司"]))
            }
            _ => local.to_string(),
        },
        3 => sign,
        4 => format!("{town}{sign}"),
        5 => match draw.range(0, 1) {
            0 => format!("{sign}（{town}店）"),
            _ => format!("{sign}({town})"),
        },
        _ => format!("{district}\u{3000}{sign}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::Purpose;

    #[test]
    fn callers_name_a_business_in_the_usual_forms() {
        let mut draw = Draw::for_entity(1, 1, Purpose::Caller);
        let forms: std::collections::BTreeSet<String> = (0..400)
            .map(|_| {
                as_called(
                    &mut draw,
                    "佛山市顺德区美华电器有限公司",
                    "顺德区",
                    "大良街道",
                )
            })
            .collect();
        for expected in [
            "佛山市顺德区美华电器有限公司",
            "顺德区美华电器有限公司",
            "佛山市顺德区美华电器有限责任公司",
            "美华电器",
            "大良街道美华电器",
            "美华电器（大良街道店）",
            "美华电器(大良街道)",
            "顺德区\u{3000}美华电器",
        ] {
            assert!(forms.contains(expected), "{expected} not among {forms:?}");
        }
        let mut draw = Draw::for_entity(1, 2, Purpose::Caller);
        let forms: std::collections::BTreeSet<String> = (0..400)
            .map(|_| as_called(&mut draw, "佛山市南海区里水镇兴盛餐厅", "南海区", "里水镇"))
            .collect();
        assert!(forms.contains("兴盛餐厅"), "{forms:?}");
        assert!(forms.contains("里水镇兴盛餐厅"), "{forms:?}");
    }
}
