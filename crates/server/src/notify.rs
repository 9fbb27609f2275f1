//! Delivering the outbox. Services queue messages in the store's outbox in
//! the same transaction as what they concern (a claim's code, a notice to
//! an account); a notifier delivers them and records the outcome, so a
//! message is never lost to a crash between the change and the sending.
//!
//! E-mail goes by SMTP to the deployment's relay when `--smtp-url` is
//! given (plain SMTP: the relay, on the intranet, does TLS onwards). Text
//! messages (`sms`) wait for a gateway the deployment wires to the outbox;
//! messages to accounts (`account`) are read on the account's pages and need
//! no delivery.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use store::{OutboxRow, Store};

/// Where e-mail goes.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// `smtp://host[:port]` of the relay.
    pub url: String,
    /// The sender, e.g. `信用平台 <noreply@credit.example>`.
    pub from: String,
}

/// How often the notifier looks for messages to deliver.
const INTERVAL: Duration = Duration::from_secs(2);
/// Messages tried per round.
const BATCH: i64 = 100;

/// Delivers unsent e-mail in the outbox until the process ends.
pub fn spawn(store: Store, smtp: Smtp) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver(&store, &smtp).await {
                tracing::error!("outbox: {e}");
            }
            tokio::time::sleep(INTERVAL).await;
        }
    });
}

/// One round: every unsent e-mail tried once; each one's outcome recorded
/// (sent, or the error, to be tried again next round). Returns how many
/// were sent.
pub async fn deliver(store: &Store, smtp: &Smtp) -> Result<usize, String> {
    let (host, port) = relay(&smtp.url)?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .build();
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("mail from '{}': {e}", smtp.from))?;
    let mut sent = 0;
    let pending = store
        .unsent_messages(BATCH)
        .await
        .map_err(|e| e.to_string())?;
    for message in pending.iter().filter(|m| m.channel == "email") {
        let outcome = match email(&from, message) {
            Ok(email) => transport
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let now = crate::now();
        match outcome {
            Ok(()) => {
                store
                    .mark_message(message.id, Some(&now), None)
                    .await
                    .map_err(|e| e.to_string())?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!("outbox message {}: {e}", message.id);
                store
                    .mark_message(message.id, None, Some(e.as_str()))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(sent)
}

/// The relay's host and port from `smtp://host[:port]` (port 25 when not
/// given). Plain SMTP only: the URL says so.
fn relay(url: &str) -> Result<(&str, u16), String> {
    let Some(rest) = url.strip_prefix("smtp://") else {
        return Err(format!("smtp url '{url}': give smtp://host[:port]"));
    };
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        None if !rest.is_empty() => Ok((rest, 25)),
        Some((host, port)) if !host.is_empty() => port
            .parse()
            .map(|port| (host, port))
            .map_err(|_| format!("smtp url '{url}': '{port}' is not a port")),
        _ => Err(format!("smtp url '{url}': no host")),
    }
}

fn email(from: &Mailbox, message: &OutboxRow) -> Result<Message, String> {
    let to: Mailbox = message
        .recipient
        .parse()
        .map_err(|e| format!("recipient '{}': {e}", message.recipient))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::relay;

    #[test]
    fn relay_urls() {
        assert_eq!(relay("smtp://mail.local:2525"), Ok(("mail.local", 2525)));
        assert_eq!(relay("smtp://10.0.0.5"), Ok(("10.0.0.5", 25)));
        assert!(relay("smtps://mail.local").is_err());
        assert!(relay("smtp://mail.local:x").is_err());
        assert!(relay("smtp://").is_err());
    }
}
