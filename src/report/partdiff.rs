//! partdiff's own output, line for line, from a partdiff result.

use std::fmt::Write;

use crate::result::Document;
use crate::result::partdiff::{MethodName, PartdiffParameters, PartdiffResults};

/// What partdiff prints after a calculation; every line but the time equals partdiff's.
pub fn text(doc: &Document<PartdiffParameters, PartdiffResults>) -> String {
    let p = &doc.parameters;
    let r = &doc.results;
    let mut out = String::new();
    let _ = writeln!(out, "Calculation time:       {:.6} s", r.calculation_time_s);
    let _ = writeln!(
        out,
        "Memory usage:           {:.6} MiB",
        r.memory_usage_partdiff_bytes as f64 / 1024.0 / 1024.0
    );
    let method = match p.method {
        MethodName::GaussSeidel => "Gauß-Seidel",
        MethodName::Jacobi => "Jacobi",
    };
    let _ = writeln!(out, "Calculation method:     {method}");
    let _ = writeln!(out, "Interlines:             {}", p.interlines);
    let function =
        if p.function == 1 { "f(x,y) = 0" } else { "f(x,y) = 2 * pi^2 * sin(pi * x) * sin(pi * y)" };
    let _ = writeln!(out, "Perturbation function:  {function}");
    let termination = if p.termination == 1 { "Required accuracy" } else { "Number of iterations" };
    let _ = writeln!(out, "Termination:            {termination}");
    let _ = writeln!(out, "Number of iterations:   {}", r.iterations);
    if let Some(residuum) = r.residuum {
        let _ = writeln!(out, "Residuum:               {}", printf_e(residuum));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Matrix:");
    for row in &r.matrix_excerpt {
        for value in row {
            let _ = write!(out, "{value:7.4}");
        }
        let _ = writeln!(out);
    }
    out
}

/// C's `printf("%e")`: six digits after the point and an exponent of at least two digits.
pub fn printf_e(value: f64) -> String {
    let rust = format!("{value:.6e}");
    let (mantissa, exponent) = rust.split_once('e').expect("{:e} has an exponent");
    let exponent: i32 = exponent.parse().expect("integer exponent");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_e_matches_c() {
        assert_eq!(printf_e(3.944083e-05), "3.944083e-05");
        assert_eq!(printf_e(9.971921e-05), "9.971921e-05");
        assert_eq!(printf_e(0.0), "0.000000e+00");
        assert_eq!(printf_e(1234.5), "1.234500e+03");
        assert_eq!(printf_e(1e-100), "1.000000e-100");
    }
}
