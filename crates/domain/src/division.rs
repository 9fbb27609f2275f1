//! Administrative divisions (GB/T 2260) for the model city, Foshan (佛山市),
//! down to towns and streets (镇/街道), and the province-level names needed to
//! name the division embedded in any USCC.
//!
//! Supervision runs on three levels: city, district, town/street. County
//! level and above use GB/T 2260 six-digit codes; towns and streets use the
//! nine-digit township codes of the national statistical division codes
//! (统计用区划代码), the district code followed by three digits.

use std::fmt;

/// A six-digit GB/T 2260 division code, as found in positions 3-8 of a USCC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DivisionCode([u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("division code '{0}' is not 6 digits")]
pub struct DivisionCodeError(pub String);

impl DivisionCode {
    pub fn parse(text: &str) -> Result<DivisionCode, DivisionCodeError> {
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DivisionCodeError(text.to_string()));
        }
        let mut digits = [0u8; 6];
        digits.copy_from_slice(text.as_bytes());
        Ok(DivisionCode(digits))
    }

    /// For digits already checked by the caller.
    pub(crate) fn from_digits(digits: [u8; 6]) -> DivisionCode {
        DivisionCode(digits)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The full Chinese name where known: the Foshan table gives
    /// `广东省佛山市顺德区`; elsewhere the province and, for the province's
    /// own code, nothing more.
    pub fn full_name_zh(&self) -> Option<String> {
        let code = self.as_str();
        if code == "100000" {
            return Some("中央".to_string());
        }
        let province = PROVINCES.iter().find(|p| code.starts_with(p.0))?.1;
        if let Some(local) = foshan().iter().find(|d| d.code == code) {
            let city = if local.level == Level::City {
                ""
            } else {
                "佛山市"
            };
            return Some(format!("{province}{city}{}", local.name_zh));
        }
        Some(province.to_string())
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DivisionCode({})", self.as_str())
    }
}

/// Province-level divisions: the first two digits of a GB/T 2260 code.
pub const PROVINCES: [(&str, &str, &str); 34] = [
    ("11", "北京市", "Beijing"),
    ("12", "天津市", "Tianjin"),
    ("13", "河北省", "Hebei"),
    ("14", "山西省", "Shanxi"),
    ("15", "内蒙古自治区", "Inner Mongolia"),
    ("21", "辽宁省", "Liaoning"),
    ("22", "吉林省", "Jilin"),
    ("23", "黑龙江省", "Heilongjiang"),
    ("31", "上海市", "Shanghai"),
    ("32", "江苏省", "Jiangsu"),
    ("33", "浙江省", "Zhejiang"),
    ("34", "安徽省", "Anhui"),
    ("35", "福建省", "Fujian"),
    ("36", "江西省", "Jiangxi"),
    ("37", "山东省", "Shandong"),
    ("41", "河南省", "Henan"),
    ("42", "湖北省", "Hubei"),
    ("43", "湖南省", "Hunan"),
    ("44", "广东省", "Guangdong"),
    ("45", "广西壮族自治区", "Guangxi"),
    ("46", "海南省", "Hainan"),
    ("50", "重庆市", "Chongqing"),
    ("51", "四川省", "Sichuan"),
    ("52", "贵州省", "Guizhou"),
    ("53", "云南省", "Yunnan"),
    ("54", "西藏自治区", "Tibet"),
    ("61", "陕西省", "Shaanxi"),
    ("62", "甘肃省", "Gansu"),
    ("63", "青海省", "Qinghai"),
    ("64", "宁夏回族自治区", "Ningxia"),
    ("65", "新疆维吾尔自治区", "Xinjiang"),
    ("71", "台湾省", "Taiwan"),
    ("81", "香港特别行政区", "Hong Kong"),
    ("82", "澳门特别行政区", "Macao"),
];

/// Level of a division in the city's three-level supervision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    City,
    District,
    /// A town (镇) or street (街道).
    Town,
}

/// One division of the model city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Division {
    /// 6 digits for the city and districts, 9 for towns and streets.
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub level: Level,
    /// The district (for a town) or the city (for a district).
    pub parent: Option<&'static str>,
}

const fn city(code: &'static str, name_zh: &'static str, name_en: &'static str) -> Division {
    Division {
        code,
        name_zh,
        name_en,
        level: Level::City,
        parent: None,
    }
}

const fn district(code: &'static str, name_zh: &'static str, name_en: &'static str) -> Division {
    Division {
        code,
        name_zh,
        name_en,
        level: Level::District,
        parent: Some("440600"),
    }
}

const fn town(
    parent: &'static str,
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
) -> Division {
    Division {
        code,
        name_zh,
        name_en,
        level: Level::Town,
        parent: Some(parent),
    }
}

const FOSHAN: [Division; 38] = [
    city("440600", "佛山市", "Foshan"),
    district("440604", "禅城区", "Chancheng"),
    district("440605", "南海区", "Nanhai"),
    district("440606", "顺德区", "Shunde"),
    district("440607", "三水区", "Sanshui"),
    district("440608", "高明区", "Gaoming"),
    town("440604", "440604010", "祖庙街道", "Zumiao Street"),
    town("440604", "440604011", "石湾镇街道", "Shiwanzhen Street"),
    town("440604", "440604012", "张槎街道", "Zhangcha Street"),
    town("440604", "440604100", "南庄镇", "Nanzhuang Town"),
    town("440605", "440605011", "桂城街道", "Guicheng Street"),
    town("440605", "440605121", "九江镇", "Jiujiang Town"),
    town("440605", "440605122", "西樵镇", "Xiqiao Town"),
    town("440605", "440605123", "丹灶镇", "Danzao Town"),
    town("440605", "440605124", "狮山镇", "Shishan Town"),
    town("440605", "440605125", "大沥镇", "Dali Town"),
    town("440605", "440605126", "里水镇", "Lishui Town"),
    town("440606", "440606010", "大良街道", "Daliang Street"),
    town("440606", "440606011", "容桂街道", "Ronggui Street"),
    town("440606", "440606012", "伦教街道", "Lunjiao Street"),
    town("440606", "440606013", "勒流街道", "Leliu Street"),
    town("440606", "440606101", "陈村镇", "Chencun Town"),
    town("440606", "440606102", "均安镇", "Jun'an Town"),
    town("440606", "440606103", "杏坛镇", "Xingtan Town"),
    town("440606", "440606104", "龙江镇", "Longjiang Town"),
    town("440606", "440606105", "乐从镇", "Lecong Town"),
    town("440606", "440606106", "北滘镇", "Beijiao Town"),
    town("440607", "440607010", "西南街道", "Xinan Street"),
    town("440607", "440607011", "云东海街道", "Yundonghai Street"),
    town("440607", "440607101", "大塘镇", "Datang Town"),
    town("440607", "440607102", "乐平镇", "Leping Town"),
    town("440607", "440607103", "白坭镇", "Baini Town"),
    town("440607", "440607104", "芦苞镇", "Lubao Town"),
    town("440607", "440607105", "南山镇", "Nanshan Town"),
    town("440608", "440608010", "荷城街道", "Hecheng Street"),
    town("440608", "440608101", "杨和镇", "Yanghe Town"),
    town("440608", "440608102", "明城镇", "Mingcheng Town"),
    town("440608", "440608103", "更合镇", "Genghe Town"),
];

/// The city, its 5 districts and their 32 towns and streets, parents first.
pub fn foshan() -> &'static [Division] {
    &FOSHAN
}

/// Looks a Foshan division up by its 6- or 9-digit code.
pub fn lookup(code: &str) -> Option<&'static Division> {
    FOSHAN.iter().find(|d| d.code == code)
}

/// The districts of the city.
pub fn districts() -> impl Iterator<Item = &'static Division> {
    FOSHAN.iter().filter(|d| d.level == Level::District)
}

/// The towns and streets of one district.
pub fn towns_of(district_code: &str) -> impl Iterator<Item = &'static Division> + '_ {
    FOSHAN
        .iter()
        .filter(move |d| d.level == Level::Town && d.parent == Some(district_code))
}

/// Where a town or street lies: a point near its seat, in degrees (WGS 84),
/// read off a map to about a kilometre. They place towns on the complaint
/// map and define neighbourhoods for the space-time scan; they are not
/// boundaries.
const CENTROIDS: [(&str, f64, f64); 32] = [
    ("440604010", 23.035, 113.115),
    ("440604011", 23.005, 113.090),
    ("440604012", 23.040, 113.070),
    ("440604100", 23.010, 113.020),
    ("440605011", 23.030, 113.160),
    ("440605121", 22.840, 112.990),
    ("440605122", 22.930, 112.960),
    ("440605123", 23.050, 112.900),
    ("440605124", 23.120, 112.990),
    ("440605125", 23.110, 113.120),
    ("440605126", 23.200, 113.160),
    ("440606010", 22.840, 113.260),
    ("440606011", 22.770, 113.280),
    ("440606012", 22.830, 113.200),
    ("440606013", 22.860, 113.140),
    ("440606101", 22.960, 113.220),
    ("440606102", 22.680, 113.130),
    ("440606103", 22.780, 113.120),
    ("440606104", 22.860, 113.070),
    ("440606105", 22.940, 113.100),
    ("440606106", 22.920, 113.200),
    ("440607010", 23.170, 112.880),
    ("440607011", 23.220, 112.840),
    ("440607101", 23.410, 112.980),
    ("440607102", 23.350, 112.930),
    ("440607103", 23.110, 112.790),
    ("440607104", 23.330, 112.850),
    ("440607105", 23.570, 112.740),
    ("440608010", 22.900, 112.880),
    ("440608101", 22.870, 112.750),
    ("440608102", 22.800, 112.660),
    ("440608103", 22.720, 112.520),
];

/// A town's point: (latitude, longitude) in degrees.
pub fn centroid(code: &str) -> Option<(f64, f64)> {
    CENTROIDS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|&(_, lat, lon)| (lat, lon))
}

/// Kilometres between two points (an equirectangular projection, within
/// metres of the great circle over a city).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_KM: f64 = 6371.0;
    let mean_lat = ((a.0 + b.0) / 2.0).to_radians();
    let x = (b.1 - a.1).to_radians() * mean_lat.cos();
    let y = (b.0 - a.0).to_radians();
    EARTH_KM * (x * x + y * y).sqrt()
}

/// Towns whose points lie within this distance are neighbours.
pub const NEIGHBOUR_KM: f64 = 14.0;

/// Whether two towns are neighbours: their points within
/// [`NEIGHBOUR_KM`], or one is the other's nearest town (so that an
/// outlying town such as 南山镇 has a neighbour). Without boundary data
/// this stands in for sharing a border.
pub fn adjacent(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    let (Some(pa), Some(pb)) = (centroid(a), centroid(b)) else {
        return false;
    };
    distance_km(pa, pb) <= NEIGHBOUR_KM || nearest(a) == Some(b) || nearest(b) == Some(a)
}

/// The nearest other town.
fn nearest(code: &str) -> Option<&'static str> {
    let from = centroid(code)?;
    CENTROIDS
        .iter()
        .filter(|(c, _, _)| *c != code)
        .min_by(|x, y| distance_km(from, (x.1, x.2)).total_cmp(&distance_km(from, (y.1, y.2))))
        .map(|(c, _, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_districts_and_32_towns() {
        assert_eq!(districts().count(), 5);
        let towns: usize = districts().map(|d| towns_of(d.code).count()).sum();
        assert_eq!(towns, 32);
        for town in FOSHAN.iter().filter(|d| d.level == Level::Town) {
            let parent = town.parent.unwrap();
            assert!(
                town.code.starts_with(parent),
                "{} not under {parent}",
                town.code
            );
        }
    }

    #[test]
    fn names_divisions_of_codes() {
        let shunde = DivisionCode::parse("440606").unwrap();
        assert_eq!(shunde.full_name_zh().as_deref(), Some("广东省佛山市顺德区"));
        let foshan = DivisionCode::parse("440600").unwrap();
        assert_eq!(foshan.full_name_zh().as_deref(), Some("广东省佛山市"));
        let fuzhou = DivisionCode::parse("350100").unwrap();
        assert_eq!(fuzhou.full_name_zh().as_deref(), Some("福建省"));
        let unknown = DivisionCode::parse("990000").unwrap();
        assert_eq!(unknown.full_name_zh(), None);
    }

    #[test]
    fn rejects_malformed_codes() {
        assert!(DivisionCode::parse("44060").is_err());
        assert!(DivisionCode::parse("44060A").is_err());
    }
    #[test]
    fn every_town_has_a_point_and_a_neighbour() {
        for town in FOSHAN.iter().filter(|d| d.level == Level::Town) {
            assert!(centroid(town.code).is_some(), "{}", town.code);
            assert!(
                FOSHAN.iter().any(|other| adjacent(town.code, other.code)),
                "{} has no neighbour",
                town.name_zh
            );
        }
        // 祖庙 and 桂城 face each other; 祖庙 and 更合 are 70 km apart.
        assert!(adjacent("440604010", "440605011"));
        assert!(!adjacent("440604010", "440608103"));
        let d = distance_km(
            centroid("440604010").unwrap(),
            centroid("440608103").unwrap(),
        );
        assert!((60.0..80.0).contains(&d), "{d}");
    }
}
