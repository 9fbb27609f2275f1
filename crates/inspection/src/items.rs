//! The standard inspection items (抽查事项清单) the platform offers when a
//! plan is drawn up, each with the department and competence it takes. A
//! plan may also carry items of its own.

use crate::plan::Item;

/// (code, name, department, competence)
pub const STANDARD_ITEMS: [(&str, &str, &str, &str); 16] = [
    (
        "samr.licence",
        "营业执照（登记证）规范使用情况的检查",
        "samr",
        "registration",
    ),
    (
        "samr.annual_report",
        "年度报告公示信息的检查",
        "samr",
        "registration",
    ),
    (
        "samr.food",
        "食品经营者经营条件和经营行为的检查",
        "samr",
        "food_safety",
    ),
    (
        "samr.product_quality",
        "产品质量监督检查",
        "samr",
        "product_quality",
    ),
    (
        "samr.advertising",
        "广告发布行为的检查",
        "samr",
        "advertising",
    ),
    (
        "samr.pricing",
        "明码标价和价格行为的检查",
        "samr",
        "pricing",
    ),
    (
        "samr.special_equipment",
        "特种设备安全的检查",
        "samr",
        "special_equipment",
    ),
    (
        "emergency.work_safety",
        "安全生产条件的检查",
        "emergency",
        "work_safety",
    ),
    (
        "emergency.chemicals",
        "危险化学品安全的检查",
        "emergency",
        "hazardous_chemicals",
    ),
    (
        "ecology.emissions",
        "排污单位污染物排放情况的检查",
        "ecology",
        "emissions",
    ),
    (
        "ecology.hazardous_waste",
        "危险废物规范化管理的检查",
        "ecology",
        "hazardous_waste",
    ),
    (
        "hrss.labour",
        "劳动合同和工资支付情况的检查",
        "hrss",
        "labour_contracts",
    ),
    (
        "hrss.social_insurance",
        "社会保险费缴纳情况的检查",
        "hrss",
        "social_insurance",
    ),
    (
        "housing.construction",
        "建设工程质量安全的检查",
        "housing",
        "construction_quality",
    ),
    (
        "transport.road",
        "道路运输经营行为的检查",
        "transport",
        "road_transport",
    ),
    ("tax.invoices", "发票使用管理情况的检查", "tax", "invoices"),
];

pub fn standard_item(code: &str) -> Option<Item> {
    STANDARD_ITEMS
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(code, name, department, competence)| Item {
            code: code.to_string(),
            name: name.to_string(),
            department: department.to_string(),
            competence: competence.to_string(),
        })
}
