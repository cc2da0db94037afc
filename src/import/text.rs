//! What every parser shares: errors that name the line, and the line-by-line reading of a
//! text output that must be complete.

use std::str::FromStr;

/// Why a file is not the format it was read as; `line` is 1-based.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: Option<usize>,
    pub message: String,
}

impl ParseError {
    pub fn at(line: usize, message: impl Into<String>) -> Self {
        ParseError { line: Some(line), message: message.into() }
    }

    pub fn whole(message: impl Into<String>) -> Self {
        ParseError { line: None, message: message.into() }
    }

    /// An error about one of several runs in a file: at the run's first line unless it has
    /// its own.
    pub fn within(self, lines: [usize; 2]) -> Self {
        ParseError { line: self.line.or(Some(lines[0])), ..self }
    }
}

/// The file's lines with their numbers, once it is known to be whole: a tool ends its output
/// with a newline, so a last line without one was cut off.
pub fn complete_lines(text: &str) -> Result<Vec<(usize, &str)>, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::whole("the file is empty"));
    }
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    if !text.ends_with('\n') {
        let last = lines.len();
        return Err(ParseError::at(last, "truncated: the last line has no end (the output was cut off)"));
    }
    Ok(lines)
}

/// `text` as a number, or an error naming what it should have been.
pub fn number<T: FromStr>(line: usize, text: &str, what: &str) -> Result<T, ParseError> {
    text.trim()
        .parse()
        .map_err(|_| ParseError::at(line, format!("{what}: {:?} is not a number", text.trim())))
}

/// The value after `key = ` up to the next comma, in lines like `min_t = 0.5, max_t = 0.7`.
pub fn field<'a>(line_text: &'a str, key: &str) -> Option<&'a str> {
    let start = line_text.find(&format!("{key} ="))? + key.len() + 2;
    let rest = &line_text[start..];
    Some(rest.split(',').next().unwrap_or(rest).trim())
}

/// A JSON output: parsed whole, an early end reported as truncation at its line.
pub fn json(text: &str) -> Result<serde_json::Value, ParseError> {
    serde_json::from_str(text).map_err(json_error)
}

/// JSON values one after another (runs appended to one file), each with its first and last
/// line.
pub fn json_values(text: &str) -> Result<Vec<([usize; 2], serde_json::Value)>, ParseError> {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    let mut values = Vec::new();
    let mut start = 0;
    while let Some(value) = stream.next() {
        let value = value.map_err(json_error)?;
        let end = stream.byte_offset();
        let first = start + (text[start..end].len() - text[start..end].trim_start().len());
        values.push(([line_of(first), line_of(end)], value));
        start = end;
    }
    if values.is_empty() {
        return Err(ParseError::whole("the file is empty"));
    }
    Ok(values)
}

pub fn json_error(e: serde_json::Error) -> ParseError {
    // serde's text ends in "at line L column C": the line is the error's own.
    let full = e.to_string();
    let what = full.split(" at line ").next().unwrap_or(&full);
    let message = if e.is_eof() {
        format!("truncated: the JSON ends early ({what})")
    } else {
        format!("not JSON: {what} (column {})", e.column())
    };
    ParseError::at(e.line().max(1), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_off_last_line_is_truncation() {
        assert_eq!(complete_lines("a\nb\n").unwrap(), vec![(1, "a"), (2, "b")]);
        let err = complete_lines("a\nb").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.starts_with("truncated"), "{err:?}");
        assert!(complete_lines(" \n").is_err());
    }

    #[test]
    fn fields_and_numbers() {
        let line = "# Write: min_t = 0.25, max_t = 1.5, mean_t = 0.75";
        assert_eq!(field(line, "max_t"), Some("1.5"));
        assert_eq!(field(line, "mean_t"), Some("0.75"));
        assert_eq!(field(line, "var_t"), None);
        assert_eq!(number::<f64>(3, " 2.5 ", "x").unwrap(), 2.5);
        let err = number::<u64>(3, "abc", "block size").unwrap_err();
        assert_eq!(err, ParseError::at(3, "block size: \"abc\" is not a number"));
    }

    #[test]
    fn appended_json_values_each_have_their_lines() {
        let values = json_values("{\n\"a\": 1\n}\n\n{\"b\": 2}\n").unwrap();
        let lines: Vec<[usize; 2]> = values.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [[1, 3], [5, 5]]);
        assert_eq!(values[1].1["b"], 2);
        assert!(json_values(" \n").unwrap_err().message.contains("empty"));
        let err = json_values("{\"a\": 1}\n{\"b\":").unwrap_err();
        assert!(err.message.starts_with("truncated") && err.line == Some(2), "{err:?}");
        assert_eq!(ParseError::whole("x").within([4, 9]).line, Some(4));
        assert_eq!(ParseError::at(6, "x").within([4, 9]).line, Some(6));
    }

    #[test]
    fn json_errors_name_the_line() {
        let err = json("{\n\"a\": 1,\n").unwrap_err();
        assert!(err.message.starts_with("truncated"), "{err:?}");
        let err = json("{\n\"a\": x\n}\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.starts_with("not JSON"), "{err:?}");
    }
}
