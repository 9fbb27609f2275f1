//! National industry classification (GB/T 4754-2017): the 20 sections
//! (门类, A–T) and 97 divisions (大类, two digits). The seed platform grades
//! entities by industry, and the risk model uses the industry as a factor.

/// A section (门类).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Section {
    pub code: char,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

/// A division (大类) and the section it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Division {
    pub code: &'static str,
    pub section: char,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

const fn s(code: char, name_zh: &'static str, name_en: &'static str) -> Section {
    Section {
        code,
        name_zh,
        name_en,
    }
}

const fn d(
    section: char,
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
) -> Division {
    Division {
        code,
        section,
        name_zh,
        name_en,
    }
}

const SECTIONS: [Section; 20] = [
    s(
        'A',
        "农、林、牧、渔业",
        "Agriculture, forestry, animal husbandry and fishery",
    ),
    s('B', "采矿业", "Mining"),
    s('C', "制造业", "Manufacturing"),
    s(
        'D',
        "电力、热力、燃气及水生产和供应业",
        "Production and supply of electricity, heat, gas and water",
    ),
    s('E', "建筑业", "Construction"),
    s('F', "批发和零售业", "Wholesale and retail trade"),
    s('G', "交通运输、仓储和邮政业", "Transport, storage and post"),
    s('H', "住宿和餐饮业", "Accommodation and catering"),
    s(
        'I',
        "信息传输、软件和信息技术服务业",
        "Information transmission, software and information technology services",
    ),
    s('J', "金融业", "Finance"),
    s('K', "房地产业", "Real estate"),
    s('L', "租赁和商务服务业", "Leasing and business services"),
    s(
        'M',
        "科学研究和技术服务业",
        "Scientific research and technical services",
    ),
    s(
        'N',
        "水利、环境和公共设施管理业",
        "Water conservancy, environment and public facilities management",
    ),
    s(
        'O',
        "居民服务、修理和其他服务业",
        "Resident services, repair and other services",
    ),
    s('P', "教育", "Education"),
    s('Q', "卫生和社会工作", "Health and social work"),
    s(
        'R',
        "文化、体育和娱乐业",
        "Culture, sports and entertainment",
    ),
    s(
        'S',
        "公共管理、社会保障和社会组织",
        "Public administration, social security and social organisations",
    ),
    s('T', "国际组织", "International organisations"),
];

const DIVISIONS: [Division; 97] = [
    d('A', "01", "农业", "Agriculture"),
    d('A', "02", "林业", "Forestry"),
    d('A', "03", "畜牧业", "Animal husbandry"),
    d('A', "04", "渔业", "Fishery"),
    d(
        'A',
        "05",
        "农、林、牧、渔专业及辅助性活动",
        "Support activities for agriculture, forestry, animal husbandry and fishery",
    ),
    d('B', "06", "煤炭开采和洗选业", "Coal mining and washing"),
    d(
        'B',
        "07",
        "石油和天然气开采业",
        "Extraction of petroleum and natural gas",
    ),
    d(
        'B',
        "08",
        "黑色金属矿采选业",
        "Mining and processing of ferrous metal ores",
    ),
    d(
        'B',
        "09",
        "有色金属矿采选业",
        "Mining and processing of non-ferrous metal ores",
    ),
    d(
        'B',
        "10",
        "非金属矿采选业",
        "Mining and processing of non-metallic minerals",
    ),
    d(
        'B',
        "11",
        "开采专业及辅助性活动",
        "Support activities for mining",
    ),
    d('B', "12", "其他采矿业", "Other mining"),
    d(
        'C',
        "13",
        "农副食品加工业",
        "Processing of agricultural and sideline food products",
    ),
    d('C', "14", "食品制造业", "Manufacture of foods"),
    d(
        'C',
        "15",
        "酒、饮料和精制茶制造业",
        "Manufacture of liquor, beverages and refined tea",
    ),
    d('C', "16", "烟草制品业", "Manufacture of tobacco products"),
    d('C', "17", "纺织业", "Manufacture of textiles"),
    d(
        'C',
        "18",
        "纺织服装、服饰业",
        "Manufacture of textile garments and apparel",
    ),
    d(
        'C',
        "19",
        "皮革、毛皮、羽毛及其制品和制鞋业",
        "Manufacture of leather, fur, feather and related products and footwear",
    ),
    d(
        'C',
        "20",
        "木材加工和木、竹、藤、棕、草制品业",
        "Processing of timber and manufacture of wood, bamboo, rattan, palm and straw products",
    ),
    d('C', "21", "家具制造业", "Manufacture of furniture"),
    d(
        'C',
        "22",
        "造纸和纸制品业",
        "Manufacture of paper and paper products",
    ),
    d(
        'C',
        "23",
        "印刷和记录媒介复制业",
        "Printing and reproduction of recording media",
    ),
    d(
        'C',
        "24",
        "文教、工美、体育和娱乐用品制造业",
        "Manufacture of articles for culture, education, arts and crafts, sport and entertainment",
    ),
    d(
        'C',
        "25",
        "石油、煤炭及其他燃料加工业",
        "Processing of petroleum, coal and other fuels",
    ),
    d(
        'C',
        "26",
        "化学原料和化学制品制造业",
        "Manufacture of chemical raw materials and chemical products",
    ),
    d('C', "27", "医药制造业", "Manufacture of medicines"),
    d(
        'C',
        "28",
        "化学纤维制造业",
        "Manufacture of chemical fibres",
    ),
    d(
        'C',
        "29",
        "橡胶和塑料制品业",
        "Manufacture of rubber and plastic products",
    ),
    d(
        'C',
        "30",
        "非金属矿物制品业",
        "Manufacture of non-metallic mineral products",
    ),
    d(
        'C',
        "31",
        "黑色金属冶炼和压延加工业",
        "Smelting and pressing of ferrous metals",
    ),
    d(
        'C',
        "32",
        "有色金属冶炼和压延加工业",
        "Smelting and pressing of non-ferrous metals",
    ),
    d('C', "33", "金属制品业", "Manufacture of metal products"),
    d(
        'C',
        "34",
        "通用设备制造业",
        "Manufacture of general-purpose machinery",
    ),
    d(
        'C',
        "35",
        "专用设备制造业",
        "Manufacture of special-purpose machinery",
    ),
    d('C', "36", "汽车制造业", "Manufacture of automobiles"),
    d(
        'C',
        "37",
        "铁路、船舶、航空航天和其他运输设备制造业",
        "Manufacture of railway, ship, aerospace and other transport equipment",
    ),
    d(
        'C',
        "38",
        "电气机械和器材制造业",
        "Manufacture of electrical machinery and equipment",
    ),
    d(
        'C',
        "39",
        "计算机、通信和其他电子设备制造业",
        "Manufacture of computers, communication and other electronic equipment",
    ),
    d(
        'C',
        "40",
        "仪器仪表制造业",
        "Manufacture of measuring instruments and meters",
    ),
    d('C', "41", "其他制造业", "Other manufacturing"),
    d(
        'C',
        "42",
        "废弃资源综合利用业",
        "Utilisation of waste resources",
    ),
    d(
        'C',
        "43",
        "金属制品、机械和设备修理业",
        "Repair of metal products, machinery and equipment",
    ),
    d(
        'D',
        "44",
        "电力、热力生产和供应业",
        "Production and supply of electricity and heat",
    ),
    d(
        'D',
        "45",
        "燃气生产和供应业",
        "Production and supply of gas",
    ),
    d(
        'D',
        "46",
        "水的生产和供应业",
        "Production and supply of water",
    ),
    d('E', "47", "房屋建筑业", "Construction of buildings"),
    d('E', "48", "土木工程建筑业", "Civil engineering"),
    d('E', "49", "建筑安装业", "Construction installation"),
    d(
        'E',
        "50",
        "建筑装饰、装修和其他建筑业",
        "Building decoration, renovation and other construction",
    ),
    d('F', "51", "批发业", "Wholesale trade"),
    d('F', "52", "零售业", "Retail trade"),
    d('G', "53", "铁路运输业", "Rail transport"),
    d('G', "54", "道路运输业", "Road transport"),
    d('G', "55", "水上运输业", "Water transport"),
    d('G', "56", "航空运输业", "Air transport"),
    d('G', "57", "管道运输业", "Pipeline transport"),
    d(
        'G',
        "58",
        "多式联运和运输代理业",
        "Multimodal transport and transport agency",
    ),
    d(
        'G',
        "59",
        "装卸搬运和仓储业",
        "Loading, unloading and warehousing",
    ),
    d('G', "60", "邮政业", "Postal services"),
    d('H', "61", "住宿业", "Accommodation"),
    d('H', "62", "餐饮业", "Catering"),
    d(
        'I',
        "63",
        "电信、广播电视和卫星传输服务",
        "Telecommunications, broadcasting and satellite transmission services",
    ),
    d(
        'I',
        "64",
        "互联网和相关服务",
        "Internet and related services",
    ),
    d(
        'I',
        "65",
        "软件和信息技术服务业",
        "Software and information technology services",
    ),
    d('J', "66", "货币金融服务", "Monetary and financial services"),
    d('J', "67", "资本市场服务", "Capital market services"),
    d('J', "68", "保险业", "Insurance"),
    d('J', "69", "其他金融业", "Other financial services"),
    d('K', "70", "房地产业", "Real estate"),
    d('L', "71", "租赁业", "Leasing"),
    d('L', "72", "商务服务业", "Business services"),
    d(
        'M',
        "73",
        "研究和试验发展",
        "Research and experimental development",
    ),
    d(
        'M',
        "74",
        "专业技术服务业",
        "Professional technical services",
    ),
    d(
        'M',
        "75",
        "科技推广和应用服务业",
        "Technology promotion and application services",
    ),
    d('N', "76", "水利管理业", "Water conservancy management"),
    d(
        'N',
        "77",
        "生态保护和环境治理业",
        "Ecological protection and environmental management",
    ),
    d('N', "78", "公共设施管理业", "Public facilities management"),
    d('N', "79", "土地管理业", "Land management"),
    d('O', "80", "居民服务业", "Resident services"),
    d(
        'O',
        "81",
        "机动车、电子产品和日用产品修理业",
        "Repair of motor vehicles, electronic products and household goods",
    ),
    d('O', "82", "其他服务业", "Other services"),
    d('P', "83", "教育", "Education"),
    d('Q', "84", "卫生", "Health"),
    d('Q', "85", "社会工作", "Social work"),
    d('R', "86", "新闻和出版业", "News and publishing"),
    d(
        'R',
        "87",
        "广播、电视、电影和录音制作业",
        "Radio, television, film and sound recording production",
    ),
    d('R', "88", "文化艺术业", "Culture and arts"),
    d('R', "89", "体育", "Sports"),
    d('R', "90", "娱乐业", "Entertainment"),
    d(
        'S',
        "91",
        "中国共产党机关",
        "Organs of the Communist Party of China",
    ),
    d('S', "92", "国家机构", "State organs"),
    d(
        'S',
        "93",
        "人民政协、民主党派",
        "CPPCC and democratic parties",
    ),
    d('S', "94", "社会保障", "Social security"),
    d(
        'S',
        "95",
        "群众团体、社会团体和其他成员组织",
        "Mass organisations, social organisations and other membership organisations",
    ),
    d(
        'S',
        "96",
        "基层群众自治组织及其他组织",
        "Grassroots self-governing organisations and other organisations",
    ),
    d('T', "97", "国际组织", "International organisations"),
];

pub fn sections() -> &'static [Section] {
    &SECTIONS
}

pub fn divisions() -> &'static [Division] {
    &DIVISIONS
}

pub fn section(code: char) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| s.code == code)
}

/// A division by its two digits; industry codes of 3 or 4 digits (groups and
/// classes) resolve to their division.
pub fn division(code: &str) -> Option<&'static Division> {
    let two = code.get(..2)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) || code.len() > 4 {
        return None;
    }
    DIVISIONS.iter().find(|d| d.code == two)
}

pub fn divisions_of(section: char) -> impl Iterator<Item = &'static Division> {
    DIVISIONS.iter().filter(move |d| d.section == section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_sections_and_97_divisions_in_order() {
        assert_eq!(sections().len(), 20);
        assert_eq!(divisions().len(), 97);
        for (i, division) in divisions().iter().enumerate() {
            assert_eq!(division.code, format!("{:02}", i + 1));
            assert!(section(division.section).is_some());
        }
        let manufacturing = divisions_of('C').count();
        assert_eq!(manufacturing, 31);
        for s in sections() {
            assert!(
                divisions_of(s.code).count() > 0,
                "section {} has no divisions",
                s.code
            );
        }
    }

    #[test]
    fn class_codes_resolve_to_their_division() {
        assert_eq!(division("3851").map(|d| d.code), Some("38"));
        assert_eq!(division("38").map(|d| d.section), Some('C'));
        assert!(division("98").is_none());
        assert!(division("3x").is_none());
        assert!(division("38511").is_none());
    }
}
