//! Message-tracking log writers, so existing log tooling reads what the engine decided.
//!
//! * [`csv_preamble`] + [`csv`]: the Exchange 2013+ message tracking log (CSV, RFC 4180
//!   quoting, recipient lists `;`-separated).
//! * [`exchange55_preamble`] + [`exchange55`]: the Exchange 5.5 tab-separated tracking
//!   log with its numeric event ids.
//! * `json_lines` (feature `serde`): the CSV's fields as one JSON object a line.
//!
//! | event | CSV `event-id` (`source`) | 5.5 event number |
//! |---|---|---|
//! | receipt on a connector | `RECEIVE` (`SMTP`) | 1012 SMTP received inbound |
//! | submission | `SUBMIT` (`STOREDRIVER`) | 4 Message submission |
//! | list expansion | `EXPAND` (`ROUTING`) | 26 Distribution list expansion |
//! | local delivery | `DELIVER` (`STOREDRIVER`) | 1000 Local delivery |
//! | connector transfer | `SEND` (`SMTP`) | 1011 SMTP transferred outbound |
//! | refusal / non-delivery | `FAIL` (`ROUTING`) | 1030 SMTP non-delivered |
//! | DSN due | `DSN` (`DSN`) | 1017 SMTP report generated |
//! | journal copy | `JOURNAL` (`JOURNALING`) | 28 Message redirected |
//! | archive copy | `ARCHIVE` (`ARCHIVAL`) | 28 Message redirected |

use std::borrow::Cow;
use std::fmt::Write;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::address::Address;

use crate::decide::decision::{Decision, EventKind, JournalCopy, Party, TrackingEvent, Traffic};
use crate::envelope::Envelope;
use crate::hash::fnv1a;
use crate::ids::EntryId;
use crate::policy::compiled::Policy;
use crate::render::facts;
use crate::render::journal::journal_message_id;
use crate::render::rendered::Rendered;
use crate::text::one_line;
use crate::time::Timestamp;
use std::ops::Range;

/// The fields of the Exchange 2013+ message tracking log, in order.
pub const CSV_FIELDS: [&str; 30] = [
    "date-time",
    "client-ip",
    "client-hostname",
    "server-ip",
    "server-hostname",
    "source-context",
    "connector-id",
    "source",
    "event-id",
    "internal-message-id",
    "message-id",
    "network-message-id",
    "recipient-address",
    "recipient-status",
    "total-bytes",
    "recipient-count",
    "related-recipient-address",
    "reference",
    "message-subject",
    "sender-address",
    "return-path",
    "message-info",
    "directionality",
    "tenant-id",
    "original-client-ip",
    "original-server-ip",
    "custom-data",
    "transport-traffic-type",
    "log-id",
    "schema-version",
];

/// What the log writers write onto: the CSV's rows are bytes (`Vec<u8>`, so that no
/// piece is checked for UTF-8 on its way in), the other logs `String`s. Only text goes
/// in (`&str`, ASCII digits, and pieces of text written before), so the bytes stay UTF-8.
trait Sink {
    /// Appends `s`.
    fn put(&mut self, s: &str);
    /// Appends `b`, which is UTF-8: ASCII digits, or bytes written as text before.
    fn put_utf8(&mut self, b: &[u8]);
    /// Appends one ASCII byte.
    fn put_byte(&mut self, b: u8);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
    #[inline]
    fn put_utf8(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    #[inline]
    fn put_byte(&mut self, b: u8) {
        self.push(b);
    }
}

impl Sink for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
    fn put_utf8(&mut self, b: &[u8]) {
        self.push_str(&String::from_utf8_lossy(b));
    }
    fn put_byte(&mut self, b: u8) {
        self.push(char::from(b));
    }
}

/// `2026-11-22T10:14:03.000Z`.
fn iso_millis(t: Timestamp) -> String {
    let mut out = String::with_capacity(24);
    push_iso_millis(&mut out, t);
    out
}

/// [`iso_millis`] written onto `out`: the digits into place in a template, one copy.
fn push_iso_millis(out: &mut impl Sink, t: Timestamp) {
    let (y, mo, d, h, mi, s) = t.civil();
    if !(0..=9999).contains(&y) {
        out.put(&format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z"));
        return;
    }
    let y = y as u32;
    let mut b = *b"0000-00-00T00:00:00.000Z";
    for (at, n) in [
        (0, y / 100),
        (2, y % 100),
        (5, mo),
        (8, d),
        (11, h),
        (14, mi),
        (17, s),
    ] {
        if let Some([hi, lo]) = b.get_mut(at..at + 2) {
            *hi = b'0' + (n / 10 % 10) as u8;
            *lo = b'0' + (n % 10) as u8;
        }
    }
    out.put_utf8(&b);
}

/// `n` in decimal, written onto `out` (cleared first).
#[cfg(any(feature = "serde", test))]
fn set_decimal(out: &mut String, n: u64) {
    out.clear();
    push_decimal(out, n);
}

/// `n` in decimal, appended to `out`: two digits a step.
fn push_decimal(out: &mut impl Sink, n: u64) {
    const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    while n >= 100 && i >= 2 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        if let (Some(d), Some(p)) = (digits.get_mut(i..i + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(p);
        }
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        if let (Some(d), Some(p)) = (digits.get_mut(i..i + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(p);
        }
    } else {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + n as u8;
        }
    }
    out.put_utf8(digits.get(i..).unwrap_or_default());
}

/// The CSV log's preamble, for the top of a new log file.
pub fn csv_preamble(at: Timestamp) -> String {
    format!(
        "#Software: mail-journal\r\n#Version: {}\r\n#Log-Type: Message Tracking Log\r\n#Date: {}\r\n#Fields: {}\r\n",
        env!("CARGO_PKG_VERSION"),
        iso_millis(at),
        CSV_FIELDS.join(",")
    )
}

/// RFC 4180: quote a field holding a comma, quote, CR or LF, doubling quotes. Control
/// characters are turned into spaces first, so every row stays on one line.
///
/// The straightforward rule, for the fields that need more than a copy: [`push_csv`]
/// and [`quote_since`] copy plain fields without calling it.
fn csv_field(out: &mut String, value: &str) {
    let plain = value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b',' && b != b'"');
    if plain {
        out.push_str(value);
        return;
    }
    let v = one_line(value);
    if v.contains([',', '"']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&v);
    }
}

/// Whether `b` goes into a CSV field as it is: printable ASCII, neither comma nor quote.
/// Eight bytes at a time (SWAR): the fields are short, too short for vectors to pay.
fn csv_plain(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // Each test is non-zero exactly when some byte of `x` is what it looks for.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let special = |x: u64| {
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let delete_or_high = (x.wrapping_add(ONES) | x) & HIGH;
        control | delete_or_high | zero(x ^ (ONES * 0x2c)) | zero(x ^ (ONES * 0x22))
    };
    let word = |w: &[u8]| <[u8; 8]>::try_from(w).map_or(HIGH, |x| special(u64::from_ne_bytes(x)));
    let n = b.len();
    if n < 8 {
        return b.iter().fold(true, |ok, &b| {
            ok & (b.wrapping_sub(0x20) < 0x5f) & (b != b',') & (b != b'"')
        });
    }
    let mut words = b.chunks_exact(8);
    let mut bad = 0u64;
    for w in &mut words {
        bad |= word(w);
    }
    // The last bytes, in a word that overlaps the one before: no byte loop.
    if !words.remainder().is_empty() {
        bad |= word(b.get(n - 8..).unwrap_or_default());
    }
    bad == 0
}

/// `value` as one CSV field onto `out`, as [`csv_field`] writes it.
fn push_csv(out: &mut Vec<u8>, value: &str) {
    if csv_plain(value.as_bytes()) {
        out.put(value);
    } else {
        push_quoted(out, value);
    }
}

/// `value`, which is not plain, as one CSV field onto `out` ([`csv_field`]).
#[cold]
fn push_quoted(out: &mut Vec<u8>, value: &str) {
    let mut field = String::with_capacity(value.len() + 2);
    csv_field(&mut field, value);
    out.put(&field);
}

/// What was written onto `out` from `start` on, made one CSV field as [`csv_field`]
/// writes it: left in place when it is plain (the usual case), rewritten when not.
fn quote_since(out: &mut Vec<u8>, start: usize) {
    let written = out.get(start..).unwrap_or_default();
    if csv_plain(written) {
        return;
    }
    // Only text was written (see `Sink`), so this is never lossy.
    let raw = String::from_utf8_lossy(written).into_owned();
    out.truncate(start);
    push_quoted(out, &raw);
}

/// A party's address written onto `out`: the address, or an entry's display address.
fn push_party(out: &mut impl Sink, policy: &Policy, p: &Party) {
    match p {
        Party::Address(a) => out.put(a.as_str()),
        Party::Entry(id) => {
            if let Some(e) = policy.entry(*id) {
                let (prefix, text) = e.display_parts();
                out.put(prefix);
                out.put(text);
            }
        }
    }
}

fn party(policy: &Policy, p: &Party) -> String {
    let mut out = String::new();
    push_party(&mut out, policy, p);
    out
}

/// The final recipients reached through a list, in decision order, `;`-separated onto
/// `out`; returns how many.
fn push_expanded_members(
    out: &mut impl Sink,
    policy: &Policy,
    decision: &Decision,
    list: EntryId,
) -> usize {
    let mut n = 0usize;
    for d in decision
        .deliveries
        .iter()
        .filter(|d| d.via.lists.contains(&list))
    {
        next_member(out, &mut n);
        push_party(out, policy, &Party::Entry(d.entry));
    }
    let external = decision
        .transfers
        .iter()
        .flat_map(|t| t.recipients.iter())
        .filter(|r| r.via.lists.contains(&list));
    for r in external {
        next_member(out, &mut n);
        out.put(r.address.as_str());
    }
    n
}

/// The list an `EXPAND` event logs (its first recipient, an entry): as Exchange logs it,
/// the row names the members reached through the list, and the list as related.
fn expanded_list(e: &TrackingEvent) -> Option<(&Party, EntryId)> {
    match (e.kind, e.recipients.first()) {
        (EventKind::Expand, Some(list @ Party::Entry(id))) => Some((list, *id)),
        _ => None,
    }
}

/// An event's `recipient-address` field (unquoted), `;`-separated onto `out`: its
/// recipients, or for a list expansion the members reached through the list. Returns
/// the `recipient-count`.
fn push_recipients(
    out: &mut impl Sink,
    policy: &Policy,
    decision: &Decision,
    e: &TrackingEvent,
) -> usize {
    if let Some((_, id)) = expanded_list(e) {
        return push_expanded_members(out, policy, decision, id);
    }
    let mut n = 0;
    for p in &e.recipients {
        next_member(out, &mut n);
        push_party(out, policy, p);
    }
    n
}

/// An event's `related-recipient-address`: the list of an expansion, else the event's
/// related party.
fn related_party(e: &TrackingEvent) -> Option<&Party> {
    match expanded_list(e) {
        Some((list, _)) => Some(list),
        None => e.related.as_ref(),
    }
}

/// Before the member after `n` of them: the `;` between members; counts it.
fn next_member(out: &mut impl Sink, n: &mut usize) {
    if *n > 0 {
        out.put_byte(b';');
    }
    *n += 1;
}

fn names(kind: EventKind) -> (&'static str, &'static str, u32) {
    match kind {
        EventKind::Receive => ("RECEIVE", "SMTP", 1012),
        EventKind::Submit => ("SUBMIT", "STOREDRIVER", 4),
        EventKind::Expand => ("EXPAND", "ROUTING", 26),
        EventKind::Deliver => ("DELIVER", "STOREDRIVER", 1000),
        EventKind::Transfer => ("SEND", "SMTP", 1011),
        EventKind::Fail => ("FAIL", "ROUTING", 1030),
        EventKind::Dsn => ("DSN", "DSN", 1017),
        EventKind::Journal => ("JOURNAL", "JOURNALING", 28),
        EventKind::Archive => ("ARCHIVE", "ARCHIVAL", 28),
    }
}

/// The CSV's `source` and `event-id` of an event, with the commas around them.
fn csv_kind_fields(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Receive => ",SMTP,RECEIVE,",
        EventKind::Submit => ",STOREDRIVER,SUBMIT,",
        EventKind::Expand => ",ROUTING,EXPAND,",
        EventKind::Deliver => ",STOREDRIVER,DELIVER,",
        EventKind::Transfer => ",SMTP,SEND,",
        EventKind::Fail => ",ROUTING,FAIL,",
        EventKind::Dsn => ",DSN,DSN,",
        EventKind::Journal => ",JOURNALING,JOURNAL,",
        EventKind::Archive => ",ARCHIVAL,ARCHIVE,",
    }
}

/// The `message-info` of a decision's receipt events (`RECEIVE`, `SUBMIT`); other
/// events have none.
fn receipt_info(decision: &Decision) -> &'static str {
    match (decision.journal_exempt, decision.suspected_evasion) {
        (true, _) => "journal-exempt",
        (_, true) => "suspected-evasion",
        _ => "",
    }
}

fn is_receipt(kind: EventKind) -> bool {
    matches!(kind, EventKind::Receive | EventKind::Submit)
}

fn info(decision: &Decision, e: &TrackingEvent) -> &'static str {
    if is_receipt(e.kind) {
        receipt_info(decision)
    } else {
        ""
    }
}

/// The original's Message-ID as the decision found it (empty when it has none).
fn original_message_id(decision: &Decision) -> Cow<'_, str> {
    decision
        .message_id
        .as_ref()
        .map(|m| String::from_utf8_lossy(m))
        .unwrap_or_default()
}

/// The subject the logs show: the last Subject of the original, where `decide`'s header
/// scan found it (so the block is not walked again), read as the renderers read it. A
/// decision for another message than the envelope's is read the long way.
fn subject<'a>(
    policy: &Policy,
    envelope: &'a Envelope,
    decision: &Decision,
) -> Option<Cow<'a, str>> {
    let message = envelope.message();
    if decision.size != message.len() {
        return facts::subject(message, policy.limits.max_header_bytes);
    }
    let (start, end) = decision.subject?;
    facts::unstructured(message.get(start as usize..end as usize)?)
}

/// The envelope sender's address (empty for the null reverse path).
fn sender(envelope: &Envelope) -> &str {
    envelope
        .reverse_path()
        .address()
        .map(Address::as_str)
        .unwrap_or_default()
}

/// What the tracking-log writers read from one decision, gathered once and shared by
/// them: the original's header block is read once per decision (for the subject), and
/// the Message-ID of each journal report is derived once, however many writers and rows
/// use them.
///
/// ```
/// use mail_journal::*;
/// let policy = demo::policy()?;
/// let ims = policy.connector_id("IMS-Main").unwrap();
/// let env = Envelope::builder(Origin::Inbound { connector: ims }, "<bob@partner.example>")?
///     .recipient("dave@example.com")?
///     .message(&b"Subject: hi\r\n\r\nhello\r\n"[..])
///     .envelope_id("Q1")
///     .build()?;
/// let decision = policy.decide(&env);
/// let tracking = render::tracking_log::Tracking::new(&policy, &env, &decision);
/// let csv = String::from_utf8(tracking.csv().to_vec())?;
/// let log55 = String::from_utf8(tracking.exchange55().to_vec())?;
/// assert!(csv.contains(",RECEIVE,") && log55.contains("\t1012\t"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Tracking<'a> {
    policy: &'a Policy,
    envelope: &'a Envelope,
    decision: &'a Decision,
    subject: Cow<'a, str>,
    /// The Message-ID of each journal copy as sent, in the decision's order.
    journal_ids: SmallVec<[String; 1]>,
}

impl<'a> Tracking<'a> {
    /// Reads what the log writers need from the decision and its original.
    pub fn new(policy: &'a Policy, envelope: &'a Envelope, decision: &'a Decision) -> Self {
        Tracking {
            policy,
            envelope,
            decision,
            subject: subject(policy, envelope, decision).unwrap_or_default(),
            journal_ids: decision
                .journal_copies
                .iter()
                .map(|j| journal_message_id(policy, envelope, decision, j).unwrap_or_default())
                .collect(),
        }
    }

    /// One CSV row per tracking event (no preamble; see [`csv_preamble`]).
    ///
    /// The fields that are the same in every row are quoted once per decision and copied
    /// into each row; only the fields of the event are written (and
    /// checked for quoting) per row.
    pub fn csv(&self) -> Rendered {
        let shared = CsvShared::new(self);
        let decision = self.decision;
        let mut out = Vec::with_capacity(shared.row_estimate() * decision.tracking.len());
        for e in &decision.tracking {
            shared.row(&mut out, self, e);
        }
        Rendered::from_chunks([Bytes::from(out)])
    }

    /// One JSON object per line and tracking event, keyed by the [`CSV_FIELDS`] names
    /// (feature `serde`).
    #[cfg(feature = "serde")]
    pub fn json_lines(&self) -> Rendered {
        let mut out = String::with_capacity(self.decision.tracking.len() * 512);
        self.rows(|row| {
            let object: serde_json::Map<String, serde_json::Value> = CSV_FIELDS
                .iter()
                .zip(row)
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
                .collect();
            out.push_str(&serde_json::Value::Object(object).to_string());
            out.push('\n');
        });
        Rendered::from_chunks([Bytes::from(out)])
    }

    /// The Exchange 5.5 tab-separated lines (see [`exchange55`]).
    pub fn exchange55(&self) -> Rendered {
        exchange55_lines(self.policy, self.envelope, self.decision)
    }

    /// The journal copy an event logs, with its Message-ID as sent.
    fn journal_copy(&self, e: &TrackingEvent) -> Option<(&'a JournalCopy, &str)> {
        let ndr = e.journal_copy?;
        let copies = &self.decision.journal_copies;
        let i = copies.iter().position(|j| j.ndr == ndr)?;
        Some((copies.get(i)?, self.journal_ids.get(i)?.as_str()))
    }

    /// Calls `each` with the values of the CSV fields ([`CSV_FIELDS`], in order) of every
    /// tracking event. The values borrow from the decision and from buffers reused from
    /// row to row.
    #[cfg(any(feature = "serde", test))]
    fn rows(&self, mut each: impl FnMut(&[&str; 30])) {
        let (policy, envelope, decision) = (self.policy, self.envelope, self.decision);
        let time = iso_millis(envelope.received_at());
        let message_id = original_message_id(decision);
        let sender = sender(envelope);
        let mut internal_id = String::with_capacity(20);
        set_decimal(
            &mut internal_id,
            fnv1a(&[envelope.envelope_id().as_bytes()]) >> 1,
        );
        let mut size = String::with_capacity(20);
        set_decimal(&mut size, decision.size as u64);
        let direction = match decision.traffic {
            Traffic::Inbound => "Incoming",
            _ => "Originating",
        };
        let version = env!("CARGO_PKG_VERSION");
        let mut rcpts = String::with_capacity(128);
        let mut related = String::with_capacity(64);
        let mut status = String::with_capacity(16);
        let mut count = String::with_capacity(20);
        for e in &decision.tracking {
            let (event, source, _) = names(e.kind);
            rcpts.clear();
            related.clear();
            let n = push_recipients(&mut rcpts, policy, decision, e);
            if let Some(p) = related_party(e) {
                push_party(&mut related, policy, p);
            }
            // A journal copy is a message of its own: its Message-ID, its NDR sender as
            // the return path, and the original's Message-ID as the reference that links
            // them.
            let (row_id, reference, return_path) = match self.journal_copy(e) {
                Some((j, id)) => (id, &*message_id, j.reverse_path.as_str()),
                None => (&*message_id, "", sender),
            };
            status.clear();
            if let Some((code, st)) = e.status {
                let _ = write!(status, "{code} {st}");
            }
            let connector = e
                .connector
                .and_then(|id| policy.connector(id))
                .map(|x| x.name())
                .unwrap_or_default();
            set_decimal(&mut count, n as u64);
            each(&[
                &time,
                "",
                "",
                "",
                policy.organisation(),
                "",
                connector,
                source,
                event,
                &internal_id,
                row_id,
                envelope.envelope_id(),
                &rcpts,
                &status,
                &size,
                &count,
                &related,
                reference,
                &self.subject,
                sender,
                return_path,
                info(decision, e),
                direction,
                "",
                "",
                "",
                "",
                "Email",
                "",
                version,
            ]);
        }
    }
}

/// The parts of the CSV rows of one decision that are the same in every row, each
/// quoted once: ranges of one buffer, copied into every row.
struct CsvShared {
    buf: Vec<u8>,
    /// `date-time` to `source-context`, with the comma before `connector-id`.
    head: Range<usize>,
    /// `internal-message-id,message-id,network-message-id,` for the rows of the original.
    ids: Range<usize>,
    /// `internal-message-id,`, for the rows of a journal copy (which has its own
    /// `message-id`).
    internal: Range<usize>,
    /// The original's Message-ID (`message-id`; `reference` of a journal copy's row).
    message_id: Range<usize>,
    /// `,network-message-id,`.
    network: Range<usize>,
    /// `,total-bytes,` (after `recipient-status`).
    size: Range<usize>,
    /// `message-subject,sender-address,`.
    subject_sender: Range<usize>,
    /// `,directionality,` … `schema-version` and the line break (after `message-info`).
    end: Range<usize>,
    /// From the comma after `related-recipient-address` to the end of the row, for the
    /// rows of the original other than receipts: no `reference`, the sender as the
    /// `return-path`, no `message-info`.
    tail: Range<usize>,
    /// The same for receipts, with their `message-info`.
    receipt_tail: Range<usize>,
}

impl CsvShared {
    fn new(t: &Tracking<'_>) -> Self {
        let (policy, envelope, decision) = (t.policy, t.envelope, t.decision);
        let sender = sender(envelope);
        let mut buf = Vec::with_capacity(
            256 + 3 * (t.subject.len() + sender.len()) + policy.organisation().len(),
        );
        let mark = |buf: &Vec<u8>, from: usize| from..buf.len();

        push_iso_millis(&mut buf, envelope.received_at());
        buf.put(",,,,");
        push_csv(&mut buf, policy.organisation());
        buf.put(",,");
        let head = mark(&buf, 0);

        let at = buf.len();
        push_decimal(&mut buf, fnv1a(&[envelope.envelope_id().as_bytes()]) >> 1);
        buf.put_byte(b',');
        let internal = mark(&buf, at);
        let at = buf.len();
        if let Some(m) = &decision.message_id {
            match std::str::from_utf8(m) {
                Ok(m) => push_csv(&mut buf, m),
                Err(_) => push_csv(&mut buf, &String::from_utf8_lossy(m)),
            }
        }
        let message_id = mark(&buf, at);
        let at = buf.len();
        buf.put_byte(b',');
        push_csv(&mut buf, envelope.envelope_id());
        buf.put_byte(b',');
        let network = mark(&buf, at);
        let ids = internal.start..network.end;

        let at = buf.len();
        buf.put_byte(b',');
        push_decimal(&mut buf, decision.size as u64);
        buf.put_byte(b',');
        let size = mark(&buf, at);

        let direction = match decision.traffic {
            Traffic::Inbound => "Incoming",
            _ => "Originating",
        };
        let tail = |buf: &mut Vec<u8>, info: &str| {
            let at = buf.len();
            buf.put(",,");
            let subject_at = buf.len();
            push_csv(buf, &t.subject);
            buf.put_byte(b',');
            push_csv(buf, sender);
            buf.put_byte(b',');
            let subject_sender = subject_at..buf.len();
            push_csv(buf, sender);
            buf.put_byte(b',');
            buf.put(info);
            let end_at = buf.len();
            buf.put_byte(b',');
            buf.put(direction);
            buf.put(",,,,,Email,,");
            buf.put(env!("CARGO_PKG_VERSION"));
            buf.put("\r\n");
            (at..buf.len(), subject_sender, end_at..buf.len())
        };
        let (tail_other, subject_sender, end) = tail(&mut buf, "");
        let receipt_tail = match receipt_info(decision) {
            "" => tail_other.clone(),
            info => tail(&mut buf, info).0,
        };
        CsvShared {
            buf,
            head,
            ids,
            internal,
            message_id,
            network,
            size,
            subject_sender,
            end,
            tail: tail_other,
            receipt_tail,
        }
    }

    fn get(&self, r: &Range<usize>) -> &[u8] {
        self.buf.get(r.clone()).unwrap_or_default()
    }

    /// About how long a row is: the shared parts and some room for the event's own.
    fn row_estimate(&self) -> usize {
        self.head.len()
            + self.ids.len()
            + self.size.len()
            + self.receipt_tail.len().max(self.tail.len())
            + 96
    }

    /// The row of one event onto `out`.
    fn row(&self, out: &mut Vec<u8>, t: &Tracking<'_>, e: &TrackingEvent) {
        let (policy, decision) = (t.policy, t.decision);
        out.put_utf8(self.get(&self.head));
        if let Some(c) = e.connector.and_then(|id| policy.connector(id)) {
            push_csv(out, c.name());
        }
        out.put(csv_kind_fields(e.kind));
        // A journal copy is a message of its own: its Message-ID, its NDR sender as the
        // return path, and the original's Message-ID as the reference that links them.
        let copy = t.journal_copy(e);
        match copy {
            Some((_, id)) => {
                out.put_utf8(self.get(&self.internal));
                push_csv(out, id);
                out.put_utf8(self.get(&self.network));
            }
            None => out.put_utf8(self.get(&self.ids)),
        }
        let at = out.len();
        let n = push_recipients(out, policy, decision, e);
        quote_since(out, at);
        out.put_byte(b',');
        if let Some((code, st)) = e.status {
            push_decimal(out, u64::from(code));
            out.put_byte(b' ');
            push_decimal(out, u64::from(st.class));
            out.put_byte(b'.');
            push_decimal(out, u64::from(st.subject));
            out.put_byte(b'.');
            push_decimal(out, u64::from(st.detail));
        }
        out.put_utf8(self.get(&self.size));
        push_decimal(out, n as u64);
        out.put_byte(b',');
        let at = out.len();
        if let Some(p) = related_party(e) {
            push_party(out, policy, p);
        }
        quote_since(out, at);
        match copy {
            Some((j, _)) => {
                out.put_byte(b',');
                out.put_utf8(self.get(&self.message_id));
                out.put_byte(b',');
                out.put_utf8(self.get(&self.subject_sender));
                push_csv(out, j.reverse_path.as_str());
                out.put_byte(b',');
                out.put(info(decision, e));
                out.put_utf8(self.get(&self.end));
            }
            None if is_receipt(e.kind) => out.put_utf8(self.get(&self.receipt_tail)),
            None => out.put_utf8(self.get(&self.tail)),
        }
    }
}

/// One CSV row per tracking event of the decision (no preamble; see [`csv_preamble`]).
/// To write several logs of one decision, read it once with [`Tracking::new`].
pub fn csv(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    Tracking::new(policy, envelope, decision).csv()
}

/// One JSON object per line and tracking event, keyed by the [`CSV_FIELDS`] names, for log
/// pipelines that take JSON (feature `serde`). To write several logs of one decision, read
/// it once with [`Tracking::new`].
#[cfg(feature = "serde")]
pub fn json_lines(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    Tracking::new(policy, envelope, decision).json_lines()
}

/// The Exchange 5.5 log's preamble.
pub fn exchange55_preamble() -> String {
    format!(
        "# Message Tracking Log File\r\n# mail-journal {}\r\n# Message ID\tEvent #\tDate/Time\tGateway Name\tPartner Name\tRemote ID\tOriginator\tPriority\tLength\tSeconds\tCost\tReport MTS-ID\tRecipients\tRecipient Name\tRecipient Report Status\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// A tab-separated field: tabs and control characters become spaces.
fn tsv(s: &str) -> String {
    one_line(s)
}

/// One Exchange 5.5 tracking line per event: message id, event number, date/time (GMT),
/// gateway (connector), partner, remote id (Message-ID), originator, priority, length,
/// seconds, cost, report id, recipient count, then a name and report status per
/// recipient.
///
/// The 5.5 log carries nothing from the original's header block, so it never reads it.
pub fn exchange55(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    exchange55_lines(policy, envelope, decision)
}

fn exchange55_lines(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    let (y, mo, d, h, mi, s) = envelope.received_at().civil();
    let time = format!("{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02} GMT");
    let message_id = original_message_id(decision);
    let sender = sender(envelope);
    let mts = format!(
        "c=US;a= ;p={};l={}",
        policy.organisation(),
        envelope.envelope_id()
    );
    let mut out = String::with_capacity(decision.tracking.len() * 160);
    for e in &decision.tracking {
        let (_, _, number) = names(e.kind);
        let gateway = e
            .connector
            .and_then(|id| policy.connector(id))
            .map(|x| x.name().to_owned())
            .unwrap_or_default();
        let partner = match e.kind {
            EventKind::Receive | EventKind::Transfer | EventKind::Dsn => "MSExchangeIMC",
            EventKind::Expand | EventKind::Fail => "MSExchangeMTA",
            EventKind::Journal => "Journal",
            EventKind::Archive => "Archive",
            _ => "MSExchangeIS",
        };
        let _ = write!(
            out,
            "{}\t{number}\t{}\t{}\t{partner}\t{}\t{}\t0\t{}\t0\t1\t\t{}",
            tsv(&mts),
            time,
            tsv(&gateway),
            tsv(&message_id),
            tsv(sender),
            decision.size,
            e.recipients.len()
        );
        let report_status = if e.kind == EventKind::Fail { "1" } else { "" };
        for p in &e.recipients {
            let _ = write!(out, "\t{}\t{report_status}", tsv(&party(policy, p)));
        }
        out.push_str("\r\n");
    }
    Rendered::from_chunks([Bytes::from(out)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times() {
        let mut s = String::from("junk");
        for n in [0u64, 7, 10, 99, 12345, u64::MAX] {
            set_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for t in [0, 1_795_342_443, 4_102_444_799, -1] {
            let t = Timestamp::from_unix(t);
            let (y, mo, d, h, mi, s) = t.civil();
            assert_eq!(
                iso_millis(t),
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z")
            );
        }
    }

    #[test]
    fn csv_quoting() {
        let mut s = String::new();
        csv_field(&mut s, "plain");
        s.push('|');
        csv_field(&mut s, "a,b");
        s.push('|');
        csv_field(&mut s, "say \"hi\"");
        s.push('|');
        csv_field(&mut s, "line\r\nbreak");
        assert_eq!(s, "plain|\"a,b\"|\"say \"\"hi\"\"\"|line  break");
    }

    #[test]
    fn decimals() {
        let mut s = String::from("x");
        for n in [
            0u64,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            12345,
            10u64.pow(19),
            u64::MAX,
        ] {
            s.truncate(1);
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn the_subject_is_the_one_decide_found_in_the_envelopes_message() {
        let p = policy("IMS");
        let env = |m: &str| {
            Envelope::builder(Origin::Submitted, "<alice@example.com>")
                .and_then(|b| b.recipient("carol@example.com"))
                .unwrap()
                .message(m.as_bytes().to_vec())
                .envelope_id("Q-1")
                .build()
                .unwrap()
        };
        // The last Subject, folded and encoded, as the renderers read it.
        let a = env("Subject: first\r\nSubject: =?utf-8?q?f=C3=BCr?=\r\n you\r\n\r\nbody\r\n");
        let d = p.decide(&a);
        assert_eq!(Tracking::new(&p, &a, &d).subject, "für you");
        // No Subject at all.
        let none = env("From: x@example.com\r\n\r\nSubject: in the body\r\n");
        let d_none = p.decide(&none);
        assert_eq!(Tracking::new(&p, &none, &d_none).subject, "");
        // A decision of another message: the envelope's own subject, read the long way.
        let b = env("Subject: another message\r\n\r\n");
        assert_eq!(Tracking::new(&p, &b, &d).subject, "another message");
    }

    #[test]
    fn kind_fields_are_the_names() {
        use EventKind::*;
        for k in [
            Receive, Submit, Expand, Deliver, Transfer, Fail, Dsn, Journal, Archive,
        ] {
            let (event, source, _) = names(k);
            assert_eq!(csv_kind_fields(k), format!(",{source},{event},"));
        }
    }

    /// The rows as the straightforward writer has them: every field of every row
    /// through [`csv_field`].
    fn reference_csv(t: &Tracking<'_>) -> Vec<u8> {
        let mut out = String::new();
        t.rows(|row| {
            for (i, f) in row.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                csv_field(&mut out, f);
            }
            out.push_str("\r\n");
        });
        out.into_bytes()
    }

    use crate::config::PolicyConfig;
    use crate::{
        AddressSpace, ConnectorConfig, EntryConfig, JournalSettings, Origin, RestrictionsConfig,
    };
    use proptest::prelude::*;

    const JOURNAL_DL: &str = "X500:/o=Example/ou=HQ/cn=Recipients/cn=Journal-DL";

    /// A policy whose directory names need quoting: a list and a mailbox whose display
    /// address is their name, with a comma, and a connector named with a comma and quotes.
    fn policy(connector: &str) -> Policy {
        let person = |name: &str| {
            EntryConfig::mailbox(name)
                .proxy(format!("SMTP:{name}@example.com"))
                .proxy(format!("X500:/o=Example/ou=HQ/cn=Recipients/cn={name}"))
        };
        let hidden = |name: &str| {
            EntryConfig::mailbox(name)
                .proxy(format!("X500:/o=Example/ou=HQ/cn=Recipients/cn={name}"))
                .hidden(true)
                .delivery(format!("{name}@store.example.internal"))
        };
        PolicyConfig::new("example.com")
            .accepted_domain("example.com")
            .entry(person("carol"))
            .entry(person("dave"))
            .entry(EntryConfig::mailbox("Doe, \"John\"").proxy("SMTP:john@example.com"))
            .entry(
                EntryConfig::distribution_list("Sales, Inc", ["dave", "Doe, \"John\""])
                    .proxy("SMTP:sales@example.com"),
            )
            .entry(
                EntryConfig::distribution_list("Journal-DL", ["journal1", "journal2"])
                    .proxy(JOURNAL_DL)
                    .hidden(true),
            )
            .entry(hidden("journal1"))
            .entry(hidden("journal2"))
            .entry(hidden("InboundJournalNDR").proxy("SMTP:in-ndr@example.com"))
            .entry(hidden("OutboundJournalNDR").proxy("SMTP:out-ndr@example.com"))
            .entry(person("alice").restrictions(RestrictionsConfig::reject(["carol"])))
            .delivery_domain("store.example.internal")
            .connector(
                ConnectorConfig::new(connector)
                    .address_space(AddressSpace::new("*", 1))
                    .archival(true)
                    .inbound_journal(JournalSettings::to(JOURNAL_DL, "InboundJournalNDR"))
                    .outbound_journal(JournalSettings::to(JOURNAL_DL, "OutboundJournalNDR")),
            )
            .render_secret("tracking-log-tests")
            .build()
            .unwrap()
    }

    /// Pieces of field values: plain text, the CSV's specials, controls, non-ASCII.
    const PIECES: &[&str] = &[
        "Q3",
        " numbers",
        ",",
        "\"",
        "\"\"",
        "\r",
        "\n",
        "\r\n",
        "\t",
        "\0",
        "\u{7f}",
        "\u{85}",
        "é",
        "Übersicht",
        "—",
        ";",
        " ",
        "x@y.example",
        "<",
        ">",
        "=?",
        "'",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(prop::sample::select(PIECES), 0..8).prop_map(|v| v.concat()),
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The word-at-a-time check is the byte rule.
        #[test]
        fn plain_is_the_byte_rule(b in prop::collection::vec(
            prop_oneof![any::<u8>(), prop::sample::select(&b" !+,-\"#\x1f\x20\x7e\x7f\x80\xff\xa2\xac"[..])], 0..40)
        ) {
            let byte_rule = b.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b',' && b != b'"');
            prop_assert_eq!(csv_plain(&b), byte_rule);
        }

        /// The fast paths quote as the straightforward rule does.
        #[test]
        fn fast_quoting_agrees_with_csv_field(prefix in text(), value in text()) {
            let mut reference = prefix.clone();
            csv_field(&mut reference, &value);
            let mut fast = prefix.clone().into_bytes();
            push_csv(&mut fast, &value);
            prop_assert_eq!(String::from_utf8(fast).unwrap(), reference.clone());
            let mut since = prefix.clone().into_bytes();
            since.put(&value);
            quote_since(&mut since, prefix.len());
            prop_assert_eq!(String::from_utf8(since).unwrap(), reference);
        }

        /// The rows written from the shared segments are byte for byte the rows of the
        /// straightforward writer, whatever the field values.
        #[test]
        fn rows_agree_with_the_reference_writer(
            connector in prop::sample::select(&["IMS", "IMS, \"main\"", "Gateway\u{e9}"][..]),
            inbound in any::<bool>(),
            sender in prop::sample::select(&[
                "<bob@partner.example>", "<>", "<\"b,o\\\"b\"@partner.example>",
                "<j\u{fc}rgen@partner.example>", "<carol@example.com>", "<alice@example.com>",
            ][..]),
            rcpts in prop::collection::vec(prop::sample::select(&[
                "carol@example.com", "dave@example.com", "sales@example.com",
                "john@example.com", "alice@example.com", "nobody@example.com",
                "\"x,y\"@partner.example", "bob@partner.example",
            ][..]), 1..5),
            subject in text(),
            message_id in prop::option::of(prop::collection::vec(any::<u8>(), 0..24)),
            envelope_id in prop::sample::select(&["Q-0001", "Q, \"1\"", "id\u{e9}"][..]),
            at in -100_000_000_000i64..300_000_000_000,
            exempt in any::<bool>(),
            evasion in any::<bool>(),
            size in any::<usize>(),
        ) {
            let p = policy(connector);
            let origin = if inbound {
                Origin::Inbound { connector: p.connector_id(connector).unwrap() }
            } else {
                Origin::Submitted
            };
            let mut b = Envelope::builder(origin, sender).unwrap();
            for r in &rcpts {
                b = b.recipient(r).unwrap();
            }
            let message = format!("Subject: {subject}\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n");
            let env = b
                .message(message.into_bytes())
                .received_at(Timestamp::from_unix(at))
                .envelope_id(envelope_id)
                .build()
                .unwrap();
            let mut d = p.decide(&env);
            if let Some(id) = message_id {
                d.message_id = Some(Bytes::from(id));
            }
            d.journal_exempt = exempt;
            d.suspected_evasion = evasion;
            d.size = size;
            let t = Tracking::new(&p, &env, &d);
            let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
            prop_assert_eq!(text(t.csv().to_vec()), text(reference_csv(&t)));
        }
    }
}
