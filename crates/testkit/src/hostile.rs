//! Files a department's system might send on a bad day, built byte by byte:
//! workbooks with hostile parts, and a child process's peak memory.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use zip::write::SimpleFileOptions;

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// Writes the elements of one part of a workbook.
pub type Elements<'a> = &'a dyn Fn(&mut dyn Write) -> std::io::Result<()>;

/// A workbook of one sheet whose `<sheetData>` is what `rows` writes, with
/// shared strings when `shared` writes them (the `<si>` elements).
pub fn workbook(
    rows: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    shared: Option<Elements>,
) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    let mut part = |name: &str, text: &str| {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    };
    part(
        "[Content_Types].xml",
        "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/></Types>",
    );
    part(
        "_rels/.rels",
        &format!(
            "<?xml version=\"1.0\"?><Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{DOC}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
        ),
    );
    part(
        "xl/workbook.xml",
        &format!(
            "<?xml version=\"1.0\"?><workbook xmlns=\"{MAIN}\" xmlns:r=\"{DOC}\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
        ),
    );
    let strings = if shared.is_some() {
        format!(
            "<Relationship Id=\"rId2\" Type=\"{DOC}/sharedStrings\" Target=\"sharedStrings.xml\"/>"
        )
    } else {
        String::new()
    };
    part(
        "xl/_rels/workbook.xml.rels",
        &format!(
            "<?xml version=\"1.0\"?><Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{DOC}/worksheet\" Target=\"worksheets/sheet1.xml\"/>{strings}</Relationships>"
        ),
    );
    if let Some(shared) = shared {
        zip.start_file("xl/sharedStrings.xml", options).unwrap();
        write!(zip, "<?xml version=\"1.0\"?><sst xmlns=\"{MAIN}\">").unwrap();
        shared(&mut zip).unwrap();
        zip.write_all(b"</sst>").unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    write!(
        zip,
        "<?xml version=\"1.0\"?><worksheet xmlns=\"{MAIN}\"><sheetData>"
    )
    .unwrap();
    rows(&mut zip).unwrap();
    zip.write_all(b"</sheetData></worksheet>").unwrap();
    zip.finish().unwrap().into_inner()
}

/// A row of inline strings, `cells` being (reference, text).
pub fn row(number: u32, cells: &[(&str, &str)]) -> String {
    let cells: String = cells
        .iter()
        .map(|(at, text)| format!("<c r=\"{at}\" t=\"inlineStr\"><is><t>{text}</t></is></c>"))
        .collect();
    format!("<row r=\"{number}\">{cells}</row>")
}

/// Runs a command to its end, measuring its peak resident memory (VmHWM,
/// read from `/proc` every few milliseconds while it runs). Returns the
/// output and the peak in MiB. Panics after `limit`.
pub fn run_measured(command: &mut Command, limit: Duration) -> (Output, u64) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let started = std::time::Instant::now();
    let mut peak_kib = 0u64;
    // Output is read on threads so a full pipe never stops the child.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).unwrap();
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut bytes).unwrap();
        bytes
    });
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
            && let Some(kib) = line.split_whitespace().nth(1).and_then(|n| n.parse().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the command ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, peak_kib / 1024)
}
