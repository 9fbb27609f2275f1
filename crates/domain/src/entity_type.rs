//! The registry's entity types (市场主体类型) and registration statuses
//! (登记状态), as the catalog's `registration` enums spell them, with their
//! names.

/// (code, Chinese name, English name) for every type the catalog allows.
pub const ENTITY_TYPES: [(&str, &str, &str); 8] = [
    (
        "limited_company",
        "有限责任公司",
        "limited liability company",
    ),
    ("joint_stock_company", "股份有限公司", "joint-stock company"),
    ("sole_proprietorship", "个人独资企业", "sole proprietorship"),
    ("partnership", "合伙企业", "partnership"),
    ("branch", "分支机构", "branch"),
    ("individual_business", "个体工商户", "individual business"),
    (
        "farmers_cooperative",
        "农民专业合作社",
        "farmers' cooperative",
    ),
    (
        "foreign_invested",
        "外商投资企业",
        "foreign-invested enterprise",
    ),
];

/// The Chinese and English names of an entity type code.
pub fn names(code: &str) -> Option<(&'static str, &'static str)> {
    ENTITY_TYPES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|&(_, zh, en)| (zh, en))
}

/// (code, Chinese name, English name) for every registration status.
pub const STATUSES: [(&str, &str, &str); 4] = [
    ("operating", "存续", "operating"),
    ("deregistered", "注销", "deregistered"),
    ("revoked", "吊销", "revoked"),
    ("moved_out", "迁出", "moved out"),
];

/// The Chinese and English names of a registration status code.
pub fn status_names(code: &str) -> Option<(&'static str, &'static str)> {
    STATUSES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|&(_, zh, en)| (zh, en))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_catalog_value_has_names() {
        let catalog = crate::Catalog::default_catalog();
        let field = catalog
            .item("registration")
            .and_then(|i| i.field("entity_type"));
        let Some(field) = field else {
            panic!("registration.entity_type is not in the catalog");
        };
        assert_eq!(field.values.len(), super::ENTITY_TYPES.len());
        for value in &field.values {
            assert!(super::names(value).is_some(), "{value}");
        }
    }

    #[test]
    fn every_status_has_names() {
        let catalog = crate::Catalog::default_catalog();
        let field = catalog.item("registration").and_then(|i| i.field("status"));
        let Some(field) = field else {
            panic!("registration.status is not in the catalog");
        };
        assert_eq!(field.values.len(), super::STATUSES.len());
        for value in &field.values {
            assert!(super::status_names(value).is_some(), "{value}");
        }
    }
}
