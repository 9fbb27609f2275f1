//! The OpenAPI document of every feature's API, served at
//! `/api/v1/openapi.json`.

use axum::Json;
use axum::routing::get;
use utoipa::OpenApi;

use crate::http::ErrorBody;
use crate::registry::service as views;

#[derive(OpenApi)]
#[openapi(
    info(title = "Xinyong API", description = "Public credit information platform: entities, batches, quality, catalog, audit, risk, inspections, financing."),
    paths(crate::registry::api::search, crate::registry::api::entity, crate::registry::api::public_entity, crate::registry::api::catalog, crate::registry::api::batches, crate::registry::api::batch, crate::registry::api::refused, crate::registry::api::upload, crate::registry::api::quality, crate::accounts::api::audit, crate::risk::api::risk_overview, crate::risk::api::risk_entities, crate::risk::api::risk_entity, crate::risk::api::risk_model, crate::risk::api::risk_screening_status, crate::risk::api::risk_screening_start,
        crate::inspection::api::list_plans, crate::inspection::api::create_plan, crate::inspection::api::public_plan, crate::inspection::api::plan_detail, crate::inspection::api::verify_plan, crate::inspection::api::commit_plan, crate::inspection::api::draw_plan, crate::inspection::api::publish_plan, crate::inspection::api::my_tasks, crate::inspection::api::record_result,
        crate::accounts::api::register, crate::accounts::api::confirm, crate::accounts::api::list_claims, crate::accounts::api::decide_claim, crate::finance::api::products, crate::finance::api::create_product, crate::finance::api::product_step, crate::finance::api::consents, crate::finance::api::grant, crate::finance::api::revoke, crate::finance::api::report, crate::finance::api::own_credit, crate::finance::api::demands, crate::finance::api::post_demand, crate::finance::api::demand, crate::finance::api::matching_demands, crate::finance::api::applications, crate::finance::api::apply, crate::finance::api::application, crate::finance::api::move_application, crate::finance::api::report_loan, crate::finance::api::report_loan_file, crate::finance::api::statistics, crate::finance::api::pool, crate::finance::api::set_pool_rule, crate::finance::api::key_enterprises, crate::finance::api::push_key, crate::finance::api::respond_push, crate::finance::api::visits, crate::finance::api::record_visit, crate::finance::api::set_first_loan, crate::finance::api::filings, crate::finance::api::file_account, crate::finance::api::open_account,
        crate::warnings::api::list_warnings, crate::warnings::api::draft_warning, crate::warnings::api::list_signals, crate::warnings::api::get_warning, crate::warnings::api::edit_warning, crate::warnings::api::move_warning, crate::warnings::api::correct_warning, crate::warnings::api::list_alerts, crate::warnings::api::get_alert,
        crate::explorer::api::explore, crate::explorer::api::history,
        crate::public_credit::api::entity_evaluation, crate::public_credit::api::evaluations, crate::public_credit::api::check, crate::public_credit::api::check_statistics, crate::public_credit::api::measures, crate::credit_cases::api::objection, crate::credit_cases::api::repair, crate::credit_cases::api::list, crate::credit_cases::api::detail, crate::credit_cases::api::move_case, crate::credit_cases::api::statistics, crate::credit_cases::api::export, crate::public_portal::api::lists, crate::public_portal::api::list, crate::public_portal::api::datasets, crate::public_portal::api::open_data),
    components(schemas(crate::accounts::claims::Registration, crate::accounts::claims::Confirmation, crate::accounts::claims::ClaimOutcome, crate::accounts::claims::Claims, crate::finance::service::ProductView, crate::finance::service::ProductInput, crate::finance::service::Consents, crate::finance::service::GrantView, crate::finance::service::AccessView, crate::finance::service::GrantInput, crate::finance::service::CreditReport, crate::finance::service::OwnCredit, crate::finance::service::CreditProfile, crate::finance::service::PaymentSection, crate::finance::service::DemandInput, crate::finance::service::DemandDetail, crate::finance::service::MatchView, crate::finance::service::DemandForBank, crate::finance::service::ApplicationInput, crate::finance::service::ApplicationDetail, crate::finance::service::Transition, crate::finance::service::LoanReportInput, crate::finance::service::LoanFileOutcome, crate::finance::api::FileProblems, crate::finance::service::Statistics, crate::finance::outreach::PoolView, crate::finance::outreach::PoolMember, crate::finance::outreach::KeyEnterprises, crate::finance::outreach::PushView, crate::finance::outreach::KeyInput, crate::finance::outreach::PushResponse, crate::finance::outreach::VisitView, crate::finance::outreach::VisitInput, crate::finance::outreach::FilingView, crate::finance::outreach::FilingInput, crate::finance::outreach::OutreachStatistics, crate::finance::api::Created, crate::inspection::service::PlanSummary, crate::inspection::service::PublicPlan, crate::inspection::service::PublicPick, crate::inspection::service::TaskView, crate::inspection::service::PlanDetail, crate::inspection::service::Committed, crate::inspection::service::Drawn, crate::inspection::api::ResultBody, crate::inspection::api::FindingBody, crate::inspection::api::Recorded, crate::inspection::api::Published, views::SearchHit, views::Profile, views::PublicProfile, views::ItemSeries, views::TimelineEvent, views::FieldValue, ErrorBody, crate::registry::api::CatalogItem, crate::registry::api::UploadResult,
        crate::warnings::service::WarningView, crate::warnings::service::WarningDetail, crate::warnings::service::SignalView, crate::warnings::service::PublicAlert, crate::warnings::service::Named, crate::warnings::service::DraftInput, crate::warnings::service::EditInput, crate::warnings::service::MoveInput, crate::warnings::api::Drafted, crate::warnings::api::Saved,
        crate::explorer::service::Exploration, crate::explorer::service::Facet, crate::explorer::service::TownCount, crate::explorer::service::ComplaintView, crate::explorer::service::History, crate::explorer::service::WarningLine, crate::explorer::service::ExploreQuery,
        crate::public_credit::service::EvaluationView, crate::public_credit::service::GradeName, crate::public_credit::service::IndicatorView, crate::public_credit::service::DimensionView, crate::public_credit::service::RuleView, crate::public_credit::service::HistoryLine, crate::public_credit::service::ChangesView, crate::public_credit::service::ChangeLine, crate::public_credit::service::Overview, crate::public_credit::service::AreaGrades, crate::public_credit::service::RunLine, crate::public_credit::service::CheckInput, crate::public_credit::service::CheckReport, crate::public_credit::service::CheckLine, crate::public_credit::service::ListLine, crate::public_credit::service::MeasureLine, crate::public_credit::service::CheckStatistic, crate::credit_cases::service::CaseInput, crate::credit_cases::service::Invalid, crate::credit_cases::service::MoveInput, crate::credit_cases::service::CaseView, crate::credit_cases::service::CaseEventView, crate::credit_cases::service::DocumentView, crate::credit_cases::service::MoveOption, crate::credit_cases::service::CaseDetail, crate::credit_cases::service::CaseList, crate::credit_cases::service::RepairStatistics, crate::credit_cases::service::StateCount, crate::credit_cases::api::OpenedCase, crate::registry::service::RefusedRows, crate::registry::service::RefusedRow, crate::public_portal::service::ListSummary, crate::public_portal::service::Member, crate::public_portal::service::Lists, crate::public_portal::service::ListPage, crate::public_portal::service::Dataset, crate::public_portal::service::DatasetField, crate::public_portal::service::OpenDataPage)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/openapi.json" => get(openapi),
}
